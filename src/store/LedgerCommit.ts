/**
 * The ledger's group commit over one better-sqlite3 connection: what the writer thread
 * (`LedgerWorker.ts`) runs. No Effect here and nothing of the main thread: the thread loads only
 * this, `LedgerRows` and better-sqlite3.
 *
 * Rules: duplicates are decided by the unique generation id (`ON CONFLICT DO NOTHING`); a
 * redelivery is compared with what is stored (a pending cost is filled, differing figures are kept
 * apart as a conflict); a shared transaction that fails is retried delivery by delivery, so one bad
 * delivery fails only itself.
 */
import type Sqlite from "better-sqlite3"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { UsageEvent } from "../domain/UsageEvent.js"
import { EVENT_COLUMNS, EVENT_FIELDS, FIGURE_COLUMNS, FIGURE_FIELDS } from "./LedgerRows.js"

/**
 * `full`: every commit is fsynced before a delivery is acknowledged, so it survives a power loss;
 * group commit shares that fsync among the deliveries waiting together. `normal`: WAL commits are
 * fsynced only at checkpoints, so a power loss (not a crash) can lose the latest.
 */
export type LedgerSync = "full" | "normal"

/** One webhook delivery's usage and quarantined spans. */
export interface Delivery {
  readonly events: ReadonlyArray<UsageEvent>
  readonly rejected: ReadonlyArray<RejectedSpan>
}

/** A conflict is a duplicate to the sender (its figures are not stored), counted apart. */
export interface Stored {
  readonly accepted: number
  readonly duplicates: number
  readonly conflicts: number
}

/** What became of one delivery: stored, or why not (one line). */
export type DeliveryResult = Stored | { readonly failure: string }

/** What a redelivery was to the ledger. */
type Outcome = "new" | "duplicate" | "conflict"

export const isBusyMessage = (message: string) => /SQLITE_BUSY|database is locked/.test(message)

export const failureText = (what: string, cause: unknown) =>
  `ledger ${what} failed: ${String((cause as { cause?: unknown }).cause ?? cause)}`

/** The writer's pragmas on an opened connection. */
export const configureWriter = (db: Sqlite.Database, sync: LedgerSync, options: { readonly autoCheckpoint: boolean }) => {
  db.pragma("journal_mode = WAL")
  db.pragma(sync === "full" ? "synchronous = FULL" : "synchronous = NORMAL")
  db.pragma("busy_timeout = 0")
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection. A writer's inserts touch a
  // few pages of each index per row (random generation ids spread over the unique index), so under
  // load its cache filled to all 16 MB: most of the server's RSS growth under the webhook benchmark
  // (docs/benchmarks.md). 1 MB keeps the B-trees' upper levels; leaves are read back from the
  // kernel's page cache, which is shared and reclaimable, not this process's memory.
  db.pragma("cache_size = -1024")
  // The writer thread checkpoints on its own schedule, outside any commit a delivery waits for.
  if (!options.autoCheckpoint) db.pragma("wal_autocheckpoint = 0")
  db.defaultSafeIntegers(true)
}

/**
 * The group commit of `db`: `commit(deliveries, now)` stores them in one transaction and answers
 * per delivery, or `"busy"` when another connection holds the write lock (nothing was written).
 */
export const makeCommitter = (db: Sqlite.Database) => {
  const insert = db.prepare(
    `INSERT INTO ledger_events (${EVENT_COLUMNS.join(", ")}, cost_pending, received_at)
     VALUES (${EVENT_COLUMNS.map(() => "?").join(", ")}, ?, ?) ON CONFLICT (generation_id) DO NOTHING`
  )
  const costAt = EVENT_FIELDS.indexOf("costNusd")
  /** The insert's values: a pending cost is written as 0 with cost_pending = 1. */
  const valuesOf = (e: UsageEvent, now: number) => {
    const values: Array<unknown> = EVENT_FIELDS.map((f) => e[f])
    values[costAt] = e.costNusd ?? 0n
    values.push(e.costNusd === null ? 1 : 0, now)
    return values
  }
  // A redelivery (the insert changed nothing): compared with what is stored, only then.
  const storedFigures = db.prepare(
    `SELECT ${FIGURE_COLUMNS.join(", ")}, cost_nusd, cost_pending FROM ledger_events WHERE generation_id = ?`
  )
  const fillCost = db.prepare("UPDATE ledger_events SET cost_nusd = ?, cost_pending = 0 WHERE generation_id = ? AND cost_pending = 1")
  const keepConflict = db.prepare(
    `INSERT INTO ledger_conflicts (generation_id, fingerprint, ${FIGURE_COLUMNS.join(", ")}, cost_nusd, times,
       first_received_at, last_received_at)
     VALUES (?, ?, ${FIGURE_COLUMNS.map(() => "?").join(", ")}, ?, 1, ?, ?)
     ON CONFLICT (generation_id, fingerprint) DO UPDATE SET times = times + 1, last_received_at = excluded.last_received_at`
  )
  /**
   * What a redelivery is: a duplicate (same figures), the cost of a pending row (the stored row had
   * none: it is filled, not a conflict), or a conflict (kept, the stored figures stay).
   */
  const redelivery = (e: UsageEvent, now: number): Outcome => {
    const stored = storedFigures.get(e.generationId) as Record<string, unknown> | undefined
    if (stored === undefined) return "duplicate"
    const pending = Number(stored.cost_pending) === 1
    if (pending && e.costNusd !== null) {
      fillCost.run(e.costNusd, e.generationId)
      return "duplicate"
    }
    const differs = FIGURE_COLUMNS.some((c, i) => String(stored[c]) !== String(e[FIGURE_FIELDS[i]])) ||
      (!pending && e.costNusd !== null && BigInt(stored.cost_nusd as bigint) !== e.costNusd)
    if (!differs) return "duplicate"
    const figures = FIGURE_FIELDS.map((f) => e[f])
    const fingerprint = JSON.stringify([...figures, e.costNusd === null ? null : String(e.costNusd)])
    keepConflict.run(e.generationId, fingerprint, ...figures, e.costNusd, now, now)
    return "conflict"
  }
  const quarantine = db.prepare(
    `INSERT INTO rejected_spans (span_key, generation_id, trace_id, span_id, event_time_ns, client_org_id, user, model,
       api_key_name, provider, input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost,
       reason, detail, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (span_key) DO NOTHING`
  )
  const insertAll = db.transaction((deliveries: ReadonlyArray<Delivery>, now: number): Array<Stored> =>
    deliveries.map((d) => {
      let accepted = 0
      let conflicts = 0
      for (const e of d.events) {
        const o = insert.run(...valuesOf(e, now)).changes > 0 ? "new" : redelivery(e, now)
        if (o === "new") accepted++
        else if (o === "conflict") conflicts++
      }
      for (const r of d.rejected) {
        quarantine.run(
          r.spanKey, r.generationId, r.traceId, r.spanId, r.eventTimeNs, r.clientOrgId, r.user, r.model,
          r.apiKeyName, r.provider, r.inputTokens, r.outputTokens, r.totalTokens, r.cachedTokens, r.reasoningTokens,
          r.cost, r.reason, r.detail, now
        )
      }
      return { accepted, duplicates: d.events.length - accepted, conflicts }
    })
  )

  const commit = (deliveries: ReadonlyArray<Delivery>, now: number): Array<DeliveryResult> | "busy" => {
    try {
      return insertAll(deliveries, now)
    } catch (e) {
      const failure = failureText("write", e)
      if (isBusyMessage(failure)) return "busy"
      if (deliveries.length === 1) return [{ failure }]
      // The shared transaction failed (rolled back whole): each delivery on its own, so one
      // delivery's failure is only its own and its neighbours are answered as if they had been alone.
      return deliveries.map((d) => {
        try {
          return insertAll([d], now)[0]
        } catch (e) {
          return { failure: failureText("write", e) }
        }
      })
    }
  }
  return { commit }
}

/** What the main thread sends the writer thread. */
export type ToWriter =
  | { readonly t: "write"; readonly id: number; readonly deliveries: ReadonlyArray<Delivery> }
  | { readonly t: "close" }

/** What the writer thread answers. */
export type FromWriter =
  | { readonly t: "ready" }
  | { readonly t: "open-failed"; readonly message: string }
  | { readonly t: "done"; readonly id: number; readonly results: ReadonlyArray<DeliveryResult> }
  | { readonly t: "closed" }

/** What the writer thread is started with. */
export interface WriterData {
  readonly filename: string
  readonly sync: LedgerSync
  /** How long a commit may wait for another connection's write lock before its deliveries fail. */
  readonly busyLimitMs: number
  /** How often the thread checkpoints the WAL into the database file when something was written. */
  readonly checkpointMs: number
}
