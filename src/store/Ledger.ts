/**
 * The durable ledger: one row per generation id. Every accepted event is committed
 * here before the webhook answers 2xx; in InfluxDB mode the same table is the outbox.
 * Its writer connection and group commit are in `LedgerWriter.ts`, its rows in `LedgerRows.ts`;
 * reads go through @effect/sql.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { UsageAggregate, UsageEvent } from "../domain/UsageEvent.js"
import { ledgerRow, type RawRejected, type RawRow } from "./LedgerRows.js"
import { type LedgerSync, LedgerUnavailable, openWriter, type RecordDone, unavailable, type WriterOptions } from "./LedgerWriter.js"
import { camelRow, joinSplitSums, type SplitAggregateColumns, splitSums, usageAggregate } from "./Rows.js"
import { safeIntegers as exact, sqliteLayer } from "../platform/Sqlite.js"
import { type KeyAggregate, type PendingRequests, toNs, UsageStore, UsageStoreError, type UsageWindow } from "./UsageStore.js"

export { LedgerUnavailable, type LedgerSync }

export interface LedgerRow extends UsageEvent {
  readonly id: bigint
  readonly receivedAtMs: number
}

/** A row InfluxDB refused for good (or the outbox would not send), kept aside with the reason. */
export interface OutboxQuarantinedRow extends LedgerRow {
  readonly quarantinedAtMs: number
  readonly reason: string
}

/** A quarantined span as listed for the operator. */
export interface RejectedRow extends RejectedSpan {
  readonly id: number
  readonly receivedAtMs: number
}

/** A redelivery that said otherwise: what was received, and what is stored (and billed). */
export interface ConflictRow {
  readonly generationId: string
  readonly times: number
  readonly lastReceivedAtMs: number
  readonly received: ConflictFigures
  readonly stored: ConflictFigures
}

export interface ConflictFigures {
  readonly user: string
  readonly model: string
  readonly apiKeyName: string
  readonly inputTokens: number
  readonly outputTokens: number
  readonly totalTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
  /** null: no cost (pending, or none sent) */
  readonly costNusd: bigint | null
}

/** The message a run gets for a day with pending costs: how many, and how to fill them. */
export const pendingCostsMessage = (n: number) =>
  `${n} request${n === 1 ? "" : "s"} of the day ${n === 1 ? "has" : "have"} no cost yet (the Broadcast destination sent ` +
  "none: turn on its cost metadata, see `mai-usage openrouter check`); fill them from OpenRouter with " +
  "`mai-usage costs fill`, then run the day again"

export interface LedgerShape {
  /**
   * Inserts a delivery's events, and its rejected spans into the quarantine, in one transaction; a
   * generation id already present counts as a duplicate, a span already quarantined is kept once.
   */
  readonly record: (
    events: ReadonlyArray<UsageEvent>,
    rejected?: ReadonlyArray<RejectedSpan>
  ) => Effect.Effect<{ readonly accepted: number; readonly duplicates: number; readonly conflicts: number }, LedgerUnavailable>
  /** `record` for the webhook's hot path: the same hand-over, answered through a plain callback (called once). */
  readonly submit: (events: ReadonlyArray<UsageEvent>, rejected: ReadonlyArray<RejectedSpan>, done: RecordDone) => void
  /** The quarantine, newest first. */
  readonly rejectedSpans: (limit: number) => Effect.Effect<ReadonlyArray<RejectedRow>, LedgerUnavailable>
  readonly aggregate: (window: UsageWindow) => Effect.Effect<ReadonlyArray<UsageAggregate>, LedgerUnavailable>
  readonly unflushed: (limit: number) => Effect.Effect<ReadonlyArray<LedgerRow>, LedgerUnavailable>
  readonly markFlushed: (ids: ReadonlyArray<bigint>, atMs: number) => Effect.Effect<void, LedgerUnavailable>
  /** Unflushed rows (quarantined ones excluded) in total, and those whose event time lies in the window. */
  readonly backlog: (window?: UsageWindow) => Effect.Effect<number, LedgerUnavailable>
  /** Sets rows aside from the outbox with the reason InfluxDB gave: the flusher skips them until released. */
  readonly quarantine: (
    rows: ReadonlyArray<{ readonly id: bigint; readonly reason: string }>,
    atMs: number
  ) => Effect.Effect<void, LedgerUnavailable>
  /** The outbox quarantine, oldest first. */
  readonly outboxQuarantined: (limit: number) => Effect.Effect<ReadonlyArray<OutboxQuarantinedRow>, LedgerUnavailable>
  /** Quarantined rows in total, and those whose event time lies in the window. */
  readonly quarantinedCount: (window?: UsageWindow) => Effect.Effect<number, LedgerUnavailable>
  /** Gives quarantined rows (all, or these ids) back to the outbox; how many were released. */
  readonly releaseQuarantine: (ids?: ReadonlyArray<bigint>) => Effect.Effect<number, LedgerUnavailable>
  readonly pruneFlushedBefore: (ms: number) => Effect.Effect<number, LedgerUnavailable>
  /** Requests of the window whose cost is pending, per model and API key name. */
  readonly pending: (window: UsageWindow) => Effect.Effect<ReadonlyArray<PendingRequests>, LedgerUnavailable>
  /** Per (API key name, model) sums of the window's events with a known cost. */
  readonly aggregateByKey: (window: UsageWindow) => Effect.Effect<ReadonlyArray<KeyAggregate>, LedgerUnavailable>
  /** Events whose cost is pending, in total or in the window. */
  readonly pendingCount: (window?: UsageWindow) => Effect.Effect<number, LedgerUnavailable>
  /** Generation ids of pending costs received before `beforeMs`, oldest first. */
  readonly pendingIds: (limit: number, beforeMs: number) => Effect.Effect<ReadonlyArray<string>, LedgerUnavailable>
  /** Sets the cost of a pending event; false when it was not pending (already filled). */
  readonly fillCost: (generationId: string, costNusd: bigint) => Effect.Effect<boolean, LedgerUnavailable>
  /** Redeliveries whose figures differed from the stored ones, newest first, each beside the stored row. */
  readonly conflicts: (limit: number) => Effect.Effect<ReadonlyArray<ConflictRow>, LedgerUnavailable>
  /** Succeeds when a write transaction can be taken (for /ready). */
  readonly checkWritable: Effect.Effect<void, LedgerUnavailable>
  /** The writer connection's `synchronous` setting as SQLite reports it back. */
  readonly sync: LedgerSync
}


const migrations = {
  "0001_ledger_events": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE ledger_events (
        id INTEGER PRIMARY KEY,
        generation_id TEXT NOT NULL UNIQUE,
        event_time_ns INTEGER NOT NULL,
        client_org_id TEXT NOT NULL,
        user TEXT NOT NULL,
        model TEXT NOT NULL,
        api_key_name TEXT NOT NULL,
        provider TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_nusd INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        flushed_at INTEGER
      )`,
      sql`CREATE INDEX ledger_events_window ON ledger_events (client_org_id, event_time_ns)`,
      sql`CREATE INDEX ledger_events_outbox ON ledger_events (id) WHERE flushed_at IS NULL`
    ], { discard: true })),
  // Spans whose usage broke a bound: ids, numbers as received (text, cut short) and the reason.
  "0002_rejected_spans": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE rejected_spans (
        id INTEGER PRIMARY KEY,
        span_key TEXT NOT NULL UNIQUE,
        generation_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        event_time_ns INTEGER,
        client_org_id TEXT NOT NULL,
        user TEXT NOT NULL,
        model TEXT NOT NULL,
        api_key_name TEXT NOT NULL,
        provider TEXT NOT NULL,
        input_tokens TEXT,
        output_tokens TEXT,
        total_tokens TEXT,
        cached_tokens TEXT,
        reasoning_tokens TEXT,
        cost TEXT,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        received_at INTEGER NOT NULL
      )`),
  // The outbox quarantine: rows InfluxDB refused for good stay unflushed, set aside with its reason.
  "0003_outbox_quarantine": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`ALTER TABLE ledger_events ADD COLUMN quarantined_at INTEGER`,
      sql`ALTER TABLE ledger_events ADD COLUMN quarantine_reason TEXT`,
      sql`CREATE INDEX ledger_events_quarantine ON ledger_events (id) WHERE quarantined_at IS NOT NULL`
    ], { discard: true })),
  // A row /ready writes to prove the disk takes a commit again after a failed write.
  "0006_ledger_probe": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE ledger_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL)`.pipe(Effect.asVoid)),
  // A cost not sent (the destination's cost flag off): the row waits with cost_pending = 1 and
  // cost_nusd 0 until OpenRouter's record of the generation gives it; never flushed or billed before.
  "0004_cost_pending": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`ALTER TABLE ledger_events ADD COLUMN cost_pending INTEGER NOT NULL DEFAULT 0`,
      sql`CREATE INDEX ledger_events_pending ON ledger_events (id) WHERE cost_pending = 1`
    ], { discard: true })),
  // A redelivered generation id whose figures differ from the stored ones: the stored ones stay,
  // each different version received is kept once (with how often and when last), never dropped.
  "0005_ledger_conflicts": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE ledger_conflicts (
      id INTEGER PRIMARY KEY,
      generation_id TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      user TEXT NOT NULL, model TEXT NOT NULL, api_key_name TEXT NOT NULL,
      input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
      cached_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
      cost_nusd INTEGER,
      times INTEGER NOT NULL,
      first_received_at INTEGER NOT NULL,
      last_received_at INTEGER NOT NULL,
      UNIQUE (generation_id, fingerprint)
    )`.pipe(Effect.asVoid))
}

const make = (filename: string, sync: LedgerSync = "full", options: WriterOptions = {}) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { db: writer, write, record, submit, lastWrite } = yield* openWriter(filename, sync, options)

  const rejectedSpans: LedgerShape["rejectedSpans"] = (limit) =>
    exact(sql<RawRejected>`SELECT * FROM rejected_spans ORDER BY id DESC LIMIT ${limit}`).pipe(
      Effect.map((rows) =>
        rows.map(({ id, received_at, ...r }): RejectedRow => ({
          id: Number(id),
          ...camelRow(r),
          reason: r.reason as RejectedSpan["reason"],
          receivedAtMs: Number(received_at)
        }))
      ),
      Effect.mapError(unavailable("read"))
    )

  /** Sums per (user, model), or per (API key name, model) read into `user`. */
  const aggregateBy = (w: UsageWindow, by: "user" | "api_key_name") =>
    exact(
      sql<SplitAggregateColumns>`SELECT ${sql.literal(by)} AS user, model, count(*) AS requests, ${sql.literal(splitSums)}
          FROM ledger_events
          WHERE client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}
            AND cost_pending = 0
          GROUP BY ${sql.literal(by)}, model ORDER BY ${sql.literal(by)}, model`
    ).pipe(
      Effect.mapError(unavailable("read")),
      Effect.flatMap((rows) =>
        Effect.try({
          try: () => rows.map((r) => usageAggregate(joinSplitSums(r))),
          catch: (e) => new LedgerUnavailable({ message: `ledger sums: ${(e as Error).message}` })
        })
      )
    )

  const aggregate: LedgerShape["aggregate"] = (w) => aggregateBy(w, "user")
  const aggregateByKey: LedgerShape["aggregateByKey"] = (w) =>
    Effect.map(aggregateBy(w, "api_key_name"), (rows) =>
      rows.map((r) => ({ apiKeyName: r.user, model: r.model, requests: r.requests, costNusd: r.costNusd })))

  // A pending cost is never written to InfluxDB: the row waits in the outbox until it is filled.
  const unflushed: LedgerShape["unflushed"] = (limit) =>
    exact(sql<RawRow>`SELECT * FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL
        AND cost_pending = 0 ORDER BY id LIMIT ${limit}`).pipe(
      Effect.map((rows) => rows.map(ledgerRow)),
      Effect.mapError(unavailable("read"))
    )

  const quarantineOne = writer.prepare(
    "UPDATE ledger_events SET quarantined_at = ?, quarantine_reason = ? WHERE id = ? AND flushed_at IS NULL"
  )
  const quarantineStmt = writer.transaction((rows: ReadonlyArray<{ id: bigint; reason: string }>, atMs: number) => {
    for (const r of rows) quarantineOne.run(atMs, r.reason, r.id)
  })
  const quarantineRows: LedgerShape["quarantine"] = (rows, atMs) =>
    rows.length === 0 ? Effect.void : write("write", () => quarantineStmt(rows, atMs))

  const outboxQuarantined: LedgerShape["outboxQuarantined"] = (limit) =>
    exact(sql<RawRow>`SELECT * FROM ledger_events WHERE quarantined_at IS NOT NULL ORDER BY id LIMIT ${limit}`).pipe(
      Effect.map((rows) =>
        rows.map((r): OutboxQuarantinedRow => ({
          ...ledgerRow(r),
          quarantinedAtMs: Number(r.quarantined_at),
          reason: r.quarantine_reason ?? ""
        }))
      ),
      Effect.mapError(unavailable("read"))
    )

  const quarantinedCount: LedgerShape["quarantinedCount"] = (w) =>
    (w === undefined
      ? sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE quarantined_at IS NOT NULL`
      : sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE quarantined_at IS NOT NULL
          AND client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}`)
      .pipe(Effect.map((r) => Number(r[0].n)), Effect.mapError(unavailable("read")))

  const releaseAll = writer.prepare(
    "UPDATE ledger_events SET quarantined_at = NULL, quarantine_reason = NULL WHERE quarantined_at IS NOT NULL"
  )
  const releaseOne = writer.prepare(
    "UPDATE ledger_events SET quarantined_at = NULL, quarantine_reason = NULL WHERE id = ? AND quarantined_at IS NOT NULL"
  )
  const releaseIds = writer.transaction((ids: ReadonlyArray<bigint>) => {
    let n = 0
    for (const id of ids) n += releaseOne.run(id).changes
    return n
  })
  const releaseQuarantine: LedgerShape["releaseQuarantine"] = (ids) =>
    write("write", () => (ids === undefined ? releaseAll.run().changes : releaseIds(ids)))

  const markOne = writer.prepare("UPDATE ledger_events SET flushed_at = ? WHERE id = ?")
  const markFlushedStmt = writer.transaction((ids: ReadonlyArray<bigint>, atMs: number) => {
    for (const id of ids) markOne.run(atMs, id)
  })
  const markFlushed: LedgerShape["markFlushed"] = (ids, atMs) =>
    ids.length === 0 ? Effect.void : write("write", () => markFlushedStmt(ids, atMs))

  const backlog: LedgerShape["backlog"] = (w) =>
    (w === undefined
      ? sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL
          AND cost_pending = 0`
      : sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL
          AND cost_pending = 0 AND client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}`)
      .pipe(Effect.map((r) => Number(r[0].n)), Effect.mapError(unavailable("read")))

  const prune = writer.prepare("DELETE FROM ledger_events WHERE flushed_at IS NOT NULL AND flushed_at < ?")
  const pruneFlushedBefore: LedgerShape["pruneFlushedBefore"] = (ms) => write("write", () => prune.run(ms).changes)

  const pendingCount: LedgerShape["pendingCount"] = (w) =>
    (w === undefined
      ? sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE cost_pending = 1`
      : sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE cost_pending = 1
          AND client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}`)
      .pipe(Effect.map((r) => Number(r[0].n)), Effect.mapError(unavailable("read")))

  const pending: LedgerShape["pending"] = (w) =>
    sql<{ model: string; api_key_name: string; n: number }>`SELECT model, api_key_name, count(*) AS n FROM ledger_events
      WHERE cost_pending = 1
        AND client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}
      GROUP BY model, api_key_name ORDER BY model, api_key_name`.pipe(
      Effect.map((rows) => rows.map((r) => ({ model: r.model, apiKeyName: r.api_key_name, requests: Number(r.n) }))),
      Effect.mapError(unavailable("read"))
    )

  const pendingIds: LedgerShape["pendingIds"] = (limit, beforeMs) =>
    sql<{ generation_id: string }>`SELECT generation_id FROM ledger_events WHERE cost_pending = 1 AND received_at < ${beforeMs}
      ORDER BY id LIMIT ${limit}`.pipe(Effect.map((rows) => rows.map((r) => r.generation_id)), Effect.mapError(unavailable("read")))

  const fill = writer.prepare("UPDATE ledger_events SET cost_nusd = ?, cost_pending = 0 WHERE generation_id = ? AND cost_pending = 1")
  const fillCost: LedgerShape["fillCost"] = (generationId, costNusd) =>
    write("write", () => fill.run(costNusd, generationId).changes > 0)

  const figuresOf = (r: Record<string, unknown>, costNusd: bigint | null): ConflictFigures => ({
    user: String(r.user),
    model: String(r.model),
    apiKeyName: String(r.api_key_name),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    totalTokens: Number(r.total_tokens),
    cachedTokens: Number(r.cached_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
    costNusd
  })
  const conflicts: LedgerShape["conflicts"] = (limit) =>
    Effect.gen(function*() {
      const received = yield* exact(sql<Record<string, unknown>>`SELECT * FROM ledger_conflicts ORDER BY last_received_at DESC, id DESC
        LIMIT ${limit}`)
      const out: Array<ConflictRow> = []
      for (const c of received) {
        const [stored] = yield* exact(sql<RawRow>`SELECT * FROM ledger_events WHERE generation_id = ${String(c.generation_id)}`)
        if (stored === undefined) continue
        const row = ledgerRow(stored)
        out.push({
          generationId: String(c.generation_id),
          times: Number(c.times),
          lastReceivedAtMs: Number(c.last_received_at),
          received: figuresOf(c, c.cost_nusd === null ? null : BigInt(c.cost_nusd as bigint)),
          stored: figuresOf(stored as unknown as Record<string, unknown>, row.costNusd)
        })
      }
      return out
    }).pipe(Effect.mapError(unavailable("read")))

  // The truth about writing, not about opening: after a failed write (disk full, I/O error, lock
  // time-out) the ledger is not writable until a commit succeeds again. While it is failing, the
  // check itself commits a one-row write (an empty statement would succeed on a full disk).
  const probe = writer.prepare("DELETE FROM ledger_events WHERE 0")
  const realProbe = writer.prepare("INSERT INTO ledger_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at")
  const checkWritable = Effect.suspend(() =>
    lastWrite.failure === undefined
      ? write("write check", () => probe.run())
      : write("write check", () => realProbe.run(Date.now())).pipe(
        Effect.tap(() => Effect.sync(() => (lastWrite.failure = undefined))),
        Effect.mapError(() => new LedgerUnavailable({ message: `the last write failed: ${lastWrite.failure}` }))
      )
  ).pipe(Effect.asVoid)

  // 2 is FULL, 1 NORMAL: read back, so what is reported is what SQLite does.
  const reportedSync: LedgerSync = Number(writer.pragma("synchronous", { simple: true })) >= 2 ? "full" : "normal"

  const ledger: LedgerShape = {
    record,
    submit,
    rejectedSpans,
    aggregate,
    unflushed,
    markFlushed,
    backlog,
    quarantine: quarantineRows,
    outboxQuarantined,
    quarantinedCount,
    releaseQuarantine,
    pruneFlushedBefore,
    pendingCount,
    pending,
    aggregateByKey,
    pendingIds,
    fillCost,
    conflicts,
    checkWritable,
    sync: reportedSync
  }
  return ledger
})

/** The ledger in `filename`; `Ledger.Default(filename, sync, options)` over a SqlClient of that same file (see `layer`). */
export class Ledger extends Effect.Service<Ledger>()("mai-usage/Ledger", { scoped: make }) {}

/** The ledger with its SQLite file opened and migrated. */
export const layer = (filename: string, sync: LedgerSync = "full", options: WriterOptions = {}) =>
  Ledger.Default(filename, sync, options).pipe(Layer.provide(sqliteLayer(filename, migrations)))

/** Embedded mode: the ledger is the usage store. */
export const usageStoreLayer = Layer.effect(
  UsageStore,
  Effect.map(Ledger, (ledger) =>
    UsageStore.of({
      source: "ledger",
      aggregate: (w) => ledger.aggregate(w).pipe(Effect.mapError((e) => new UsageStoreError({ message: e.message }))),
      ensureComplete: () => Effect.void,
      pending: (w) => ledger.pending(w).pipe(Effect.mapError((e) => new UsageStoreError({ message: e.message }))),
      aggregateByKey: (w) => ledger.aggregateByKey(w).pipe(Effect.mapError((e) => new UsageStoreError({ message: e.message })))
    }))
)
