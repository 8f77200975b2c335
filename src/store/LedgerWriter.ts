/**
 * The ledger's writer: one better-sqlite3 connection of its own for every write, and the group
 * commit of the webhook's deliveries.
 */
import Sqlite from "better-sqlite3"
import { Effect, Schedule, Schema } from "effect"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { UsageEvent } from "../domain/UsageEvent.js"
import { ownerOnly } from "../platform/Sqlite.js"
import { EVENT_COLUMNS, EVENT_FIELDS, FIGURE_COLUMNS, FIGURE_FIELDS } from "./LedgerRows.js"

export class LedgerUnavailable extends Schema.TaggedError<LedgerUnavailable>()("LedgerUnavailable", {
  message: Schema.String
}) {}

export const unavailable = (what: string) => (cause: unknown) =>
  new LedgerUnavailable({ message: `ledger ${what} failed: ${String((cause as { cause?: unknown }).cause ?? cause)}` })

/**
 * `full`: every commit is fsynced before a delivery is acknowledged, so it survives a power loss;
 * group commit shares that fsync among the deliveries of one event-loop turn. `normal`: WAL
 * commits are fsynced only at checkpoints, so a power loss (not a crash) can lose the latest.
 */
export type LedgerSync = "full" | "normal"

/** What an event of a delivery was to the ledger. */
type Outcome = "new" | "duplicate" | "conflict"

/** Opens the writer connection of `filename` (closed with the scope, after a last commit). */
export const openWriter = (filename: string, sync: LedgerSync) => Effect.gen(function*() {
  // The write path bounds the webhook's throughput, and a prepared better-sqlite3 statement costs a
  // fraction of an insert through @effect/sql (figures in docs/benchmarks.md). So the ledger owns one
  // writer connection of its own for every write (inserts, outbox marks, pruning), wrapped in Effect
  // with typed errors; @effect/sql keeps migrations and reads. One writer connection in the process
  // means no write contention here; a busy file (another process) is retried asynchronously instead
  // of blocking the event loop.
  const writer = yield* Effect.acquireRelease(
    Effect.try({
      try: () => {
        ownerOnly(filename)
        const db = new Sqlite(filename)
        db.pragma("journal_mode = WAL")
        db.pragma(sync === "full" ? "synchronous = FULL" : "synchronous = NORMAL")
        db.pragma("busy_timeout = 0")
        db.defaultSafeIntegers(true)
        return db
      },
      catch: unavailable("open")
    }),
    (db) => Effect.sync(() => db.close())
  )
  const insert = writer.prepare(
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
  const storedFigures = writer.prepare(
    `SELECT ${FIGURE_COLUMNS.join(", ")}, cost_nusd, cost_pending FROM ledger_events WHERE generation_id = ?`
  )
  const fillCost = writer.prepare("UPDATE ledger_events SET cost_nusd = ?, cost_pending = 0 WHERE generation_id = ? AND cost_pending = 1")
  const keepConflict = writer.prepare(
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
  const quarantine = writer.prepare(
    `INSERT INTO rejected_spans (span_key, generation_id, trace_id, span_id, event_time_ns, client_org_id, user, model,
       api_key_name, provider, input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost,
       reason, detail, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (span_key) DO NOTHING`
  )
  interface Delivery {
    readonly events: ReadonlyArray<UsageEvent>
    readonly rejected: ReadonlyArray<RejectedSpan>
  }
  /** Returns, per event of every delivery in order, what it was. */
  const insertAll = writer.transaction((deliveries: ReadonlyArray<Delivery>, now: number): Array<Outcome> => {
    const isNew: Array<Outcome> = []
    for (const d of deliveries) {
      for (const e of d.events) {
        isNew.push(insert.run(...valuesOf(e, now)).changes > 0 ? "new" : redelivery(e, now))
      }
      for (const r of d.rejected) {
        quarantine.run(
          r.spanKey, r.generationId, r.traceId, r.spanId, r.eventTimeNs, r.clientOrgId, r.user, r.model,
          r.apiKeyName, r.provider, r.inputTokens, r.outputTokens, r.totalTokens, r.cachedTokens, r.reasoningTokens,
          r.cost, r.reason, r.detail, now
        )
      }
    }
    return isNew
  })
  /** The last commit's failure (one line), until a commit succeeds: what /ready reports. */
  const lastWrite: { failure: string | undefined } = { failure: undefined }
  // How long a delivery may wait for another process's write lock before it gets 503.
  const BUSY_LIMIT_MS = 5_000
  const isBusy = (e: LedgerUnavailable) => /SQLITE_BUSY|database is locked/.test(e.message)
  const write = <A>(what: string, f: () => A) =>
    Effect.try({ try: f, catch: unavailable(what) }).pipe(
      Effect.tapBoth({
        onFailure: (e) => Effect.sync(() => void (isBusy(e) || (lastWrite.failure = e.message))),
        onSuccess: () => Effect.sync(() => void (lastWrite.failure = undefined))
      }),
      Effect.retry({ while: isBusy, schedule: Schedule.exponential("5 millis").pipe(Schedule.upTo("5 seconds")) })
    )

  // Group commit: deliveries that arrive in one turn of the event loop share one transaction,
  // committed on the next turn (setImmediate); each waits for its own result.
  /** A conflict is a duplicate to the sender (its figures are not stored), counted apart. */
  type Stored = { readonly accepted: number; readonly duplicates: number; readonly conflicts: number }
  interface Pending extends Delivery {
    readonly resume: (result: Effect.Effect<Stored, LedgerUnavailable>) => void
  }
  let pending: Array<Pending> = []
  let closed = false
  /** Since when another process has held the write lock against us (0: not busy). */
  let busySince = 0
  const resumeAll = (batch: ReadonlyArray<Pending>, outcomes: ReadonlyArray<Outcome>) => {
    let i = 0
    for (const p of batch) {
      let accepted = 0
      let conflicts = 0
      for (let k = 0; k < p.events.length; k++) {
        const o = outcomes[i++]
        if (o === "new") accepted++
        else if (o === "conflict") conflicts++
      }
      p.resume(Effect.succeed({ accepted, duplicates: p.events.length - accepted, conflicts }))
    }
  }
  const commitPending = () => {
    const batch = pending
    pending = []
    let isNew: Array<Outcome>
    try {
      isNew = insertAll(batch, Date.now())
    } catch (e) {
      const failure = unavailable("write")(e)
      const now = Date.now()
      if (isBusy(failure) && (busySince === 0 || now - busySince < BUSY_LIMIT_MS)) {
        // Another process holds the write lock: try again shortly, never block the event loop.
        if (busySince === 0) busySince = now
        pending = batch.concat(pending)
        setTimeout(commitPending, 5)
        return
      }
      busySince = 0
      lastWrite.failure = failure.message
      if (batch.length === 1 || isBusy(failure)) {
        for (const p of batch) p.resume(Effect.fail(failure))
        return
      }
      // The shared transaction failed (rolled back whole): commit each delivery on its own, so one
      // delivery's failure is only its own and its neighbours are answered as if they had been alone.
      for (const p of batch) {
        try {
          resumeAll([p], insertAll([p], Date.now()))
          lastWrite.failure = undefined
        } catch (e) {
          const alone = unavailable("write")(e)
          lastWrite.failure = alone.message
          p.resume(Effect.fail(alone))
        }
      }
      return
    }
    busySince = 0
    lastWrite.failure = undefined
    resumeAll(batch, isNew)
  }
  yield* Effect.addFinalizer(() => Effect.sync(() => {
    closed = true
    if (pending.length > 0) commitPending()
  }))

  const record = (
    events: ReadonlyArray<UsageEvent>,
    rejected: ReadonlyArray<RejectedSpan> = []
  ): Effect.Effect<Stored, LedgerUnavailable> =>
    events.length === 0 && rejected.length === 0
      ? Effect.succeed({ accepted: 0, duplicates: 0, conflicts: 0 })
      : Effect.async<Stored, LedgerUnavailable>((resume) => {
        if (closed) return resume(Effect.fail(new LedgerUnavailable({ message: "ledger is closed" })))
        if (pending.length === 0) setImmediate(commitPending)
        pending.push({ events, rejected, resume })
      })
  return { db: writer, write, record, lastWrite }
})
