/**
 * The durable ledger: one row per generation id. Every accepted event is committed
 * here before the webhook answers 2xx; in InfluxDB mode the same table is the outbox.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import Sqlite from "better-sqlite3"
import { Effect, Layer, Schedule, Schema } from "effect"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { UsageAggregate, UsageEvent } from "../domain/UsageEvent.js"
import {
  fieldOf,
  joinSplitSums,
  type SplitAggregateColumns,
  splitSums,
  SUMMED,
  type TokenColumns,
  tokenCounts,
  usageAggregate
} from "./Rows.js"
import { safeIntegers as exact, sqliteLayer } from "./Sqlite.js"
import { toNs, UsageStore, UsageStoreError, type UsageWindow } from "./UsageStore.js"

export class LedgerUnavailable extends Schema.TaggedError<LedgerUnavailable>()("LedgerUnavailable", {
  message: Schema.String
}) {}

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

export interface LedgerShape {
  /**
   * Inserts a delivery's events, and its rejected spans into the quarantine, in one transaction; a
   * generation id already present counts as a duplicate, a span already quarantined is kept once.
   */
  readonly record: (
    events: ReadonlyArray<UsageEvent>,
    rejected?: ReadonlyArray<RejectedSpan>
  ) => Effect.Effect<{ readonly accepted: number; readonly duplicates: number }, LedgerUnavailable>
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
  /** Succeeds when a write transaction can be taken (for /ready). */
  readonly checkWritable: Effect.Effect<void, LedgerUnavailable>
  /** The writer connection's `synchronous` setting as SQLite reports it back. */
  readonly sync: LedgerSync
}

/**
 * `full`: every commit is fsynced before a delivery is acknowledged, so it survives a power loss;
 * group commit shares that fsync among the deliveries of one event-loop turn. `normal`: WAL
 * commits are fsynced only at checkpoints, so a power loss (not a crash) can lose the latest.
 */
export type LedgerSync = "full" | "normal"

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
    ], { discard: true }))
}

const unavailable = (what: string) => (cause: unknown) =>
  new LedgerUnavailable({ message: `ledger ${what} failed: ${String((cause as { cause?: unknown }).cause ?? cause)}` })

interface RawRow extends TokenColumns {
  readonly id: bigint
  readonly generation_id: string
  readonly event_time_ns: bigint
  readonly client_org_id: string
  readonly user: string
  readonly model: string
  readonly api_key_name: string
  readonly provider: string
  readonly cost_nusd: bigint
  readonly received_at: bigint
  readonly quarantined_at?: bigint | null
  readonly quarantine_reason?: string | null
}

interface RawRejected {
  readonly id: bigint
  readonly span_key: string
  readonly generation_id: string
  readonly trace_id: string
  readonly span_id: string
  readonly event_time_ns: bigint | null
  readonly client_org_id: string
  readonly user: string
  readonly model: string
  readonly api_key_name: string
  readonly provider: string
  readonly input_tokens: string | null
  readonly output_tokens: string | null
  readonly total_tokens: string | null
  readonly cached_tokens: string | null
  readonly reasoning_tokens: string | null
  readonly cost: string | null
  readonly reason: string
  readonly detail: string
  readonly received_at: bigint
}

/** The ledger_events columns an event is written to, in the order the insert binds them (then received_at). */
const EVENT_COLUMNS = ["generation_id", "event_time_ns", "client_org_id", "user", "model", "api_key_name", "provider", ...SUMMED] as const
const EVENT_FIELDS = EVENT_COLUMNS.map((c) => fieldOf(c) as keyof UsageEvent)

const ledgerRow = (r: RawRow): LedgerRow => ({
  id: r.id,
  ...(Object.fromEntries(EVENT_COLUMNS.map((c) => [fieldOf(c), r[c]])) as unknown as UsageEvent),
  ...tokenCounts(r),
  receivedAtMs: Number(r.received_at)
})

const make = (filename: string, sync: LedgerSync = "full") => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // The write path bounds the webhook's throughput, and a prepared better-sqlite3 statement costs a
  // fraction of an insert through @effect/sql (figures in docs/benchmarks.md). So the ledger owns one
  // writer connection of its own for every write (inserts, outbox marks, pruning), wrapped in Effect
  // with typed errors; @effect/sql keeps migrations and reads. One writer connection in the process
  // means no write contention here; a busy file (another process) is retried asynchronously instead
  // of blocking the event loop.
  const writer = yield* Effect.acquireRelease(
    Effect.try({
      try: () => {
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
    `INSERT INTO ledger_events (${EVENT_COLUMNS.join(", ")}, received_at)
     VALUES (${EVENT_COLUMNS.map(() => "?").join(", ")}, ?) ON CONFLICT (generation_id) DO NOTHING`
  )
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
  /** Returns, per event of every delivery in order, whether it was new. */
  const insertAll = writer.transaction((deliveries: ReadonlyArray<Delivery>, now: number): Array<boolean> => {
    const isNew: Array<boolean> = []
    for (const d of deliveries) {
      for (const e of d.events) {
        isNew.push(insert.run(...EVENT_FIELDS.map((f) => e[f]), now).changes > 0)
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
  // How long a delivery may wait for another process's write lock before it gets 503.
  const BUSY_LIMIT_MS = 5_000
  const isBusy = (e: LedgerUnavailable) => /SQLITE_BUSY|database is locked/.test(e.message)
  const write = <A>(what: string, f: () => A) =>
    Effect.try({ try: f, catch: unavailable(what) }).pipe(
      Effect.retry({ while: isBusy, schedule: Schedule.exponential("5 millis").pipe(Schedule.upTo("5 seconds")) })
    )

  // Group commit: deliveries that arrive in one turn of the event loop share one transaction,
  // committed on the next turn (setImmediate); each waits for its own result.
  type Stored = { readonly accepted: number; readonly duplicates: number }
  interface Pending extends Delivery {
    readonly resume: (result: Effect.Effect<Stored, LedgerUnavailable>) => void
  }
  let pending: Array<Pending> = []
  let closed = false
  /** Since when another process has held the write lock against us (0: not busy). */
  let busySince = 0
  const resumeAll = (batch: ReadonlyArray<Pending>, isNew: ReadonlyArray<boolean>) => {
    let i = 0
    for (const p of batch) {
      let accepted = 0
      for (let k = 0; k < p.events.length; k++) if (isNew[i++]) accepted++
      p.resume(Effect.succeed({ accepted, duplicates: p.events.length - accepted }))
    }
  }
  const commitPending = () => {
    const batch = pending
    pending = []
    let isNew: Array<boolean>
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
      if (batch.length === 1 || isBusy(failure)) {
        for (const p of batch) p.resume(Effect.fail(failure))
        return
      }
      // The shared transaction failed (rolled back whole): commit each delivery on its own, so one
      // delivery's failure is only its own and its neighbours are answered as if they had been alone.
      for (const p of batch) {
        try {
          resumeAll([p], insertAll([p], Date.now()))
        } catch (e) {
          p.resume(Effect.fail(unavailable("write")(e)))
        }
      }
      return
    }
    busySince = 0
    resumeAll(batch, isNew)
  }
  yield* Effect.addFinalizer(() => Effect.sync(() => {
    closed = true
    if (pending.length > 0) commitPending()
  }))

  const record: LedgerShape["record"] = (events, rejected = []) =>
    events.length === 0 && rejected.length === 0
      ? Effect.succeed({ accepted: 0, duplicates: 0 })
      : Effect.async<Stored, LedgerUnavailable>((resume) => {
        if (closed) return resume(Effect.fail(new LedgerUnavailable({ message: "ledger is closed" })))
        if (pending.length === 0) setImmediate(commitPending)
        pending.push({ events, rejected, resume })
      })

  const rejectedSpans: LedgerShape["rejectedSpans"] = (limit) =>
    exact(sql<RawRejected>`SELECT * FROM rejected_spans ORDER BY id DESC LIMIT ${limit}`).pipe(
      Effect.map((rows) =>
        rows.map((r): RejectedRow => ({
          id: Number(r.id),
          spanKey: r.span_key,
          generationId: r.generation_id,
          traceId: r.trace_id,
          spanId: r.span_id,
          eventTimeNs: r.event_time_ns,
          clientOrgId: r.client_org_id,
          user: r.user,
          model: r.model,
          apiKeyName: r.api_key_name,
          provider: r.provider,
          inputTokens: r.input_tokens,
          outputTokens: r.output_tokens,
          totalTokens: r.total_tokens,
          cachedTokens: r.cached_tokens,
          reasoningTokens: r.reasoning_tokens,
          cost: r.cost,
          reason: r.reason as RejectedSpan["reason"],
          detail: r.detail,
          receivedAtMs: Number(r.received_at)
        }))
      ),
      Effect.mapError(unavailable("read"))
    )

  const aggregate: LedgerShape["aggregate"] = (w) =>
    exact(
      sql<SplitAggregateColumns>`SELECT user, model, count(*) AS requests, ${sql.literal(splitSums)}
          FROM ledger_events
          WHERE client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}
          GROUP BY user, model ORDER BY user, model`
    ).pipe(
      Effect.mapError(unavailable("read")),
      Effect.flatMap((rows) =>
        Effect.try({
          try: () => rows.map((r) => usageAggregate(joinSplitSums(r))),
          catch: (e) => new LedgerUnavailable({ message: `ledger sums: ${(e as Error).message}` })
        })
      )
    )

  const unflushed: LedgerShape["unflushed"] = (limit) =>
    exact(sql<RawRow>`SELECT * FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL
        ORDER BY id LIMIT ${limit}`).pipe(
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
      ? sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL`
      : sql<{ n: number }>`SELECT count(*) AS n FROM ledger_events WHERE flushed_at IS NULL AND quarantined_at IS NULL
          AND client_org_id = ${w.clientOrgId} AND event_time_ns >= ${toNs(w.start)} AND event_time_ns < ${toNs(w.end)}`)
      .pipe(Effect.map((r) => Number(r[0].n)), Effect.mapError(unavailable("read")))

  const prune = writer.prepare("DELETE FROM ledger_events WHERE flushed_at IS NOT NULL AND flushed_at < ?")
  const pruneFlushedBefore: LedgerShape["pruneFlushedBefore"] = (ms) => write("write", () => prune.run(ms).changes)

  // A write statement takes the write lock even when it matches nothing.
  const probe = writer.prepare("DELETE FROM ledger_events WHERE 0")
  const checkWritable = write("write check", () => probe.run()).pipe(Effect.asVoid)

  // 2 is FULL, 1 NORMAL: read back, so what is reported is what SQLite does.
  const reportedSync: LedgerSync = Number(writer.pragma("synchronous", { simple: true })) >= 2 ? "full" : "normal"

  const ledger: LedgerShape = {
    record,
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
    checkWritable,
    sync: reportedSync
  }
  return ledger
})

/** The ledger in `filename`; `Ledger.Default(filename, sync)` over a SqlClient of that same file (see `layer`). */
export class Ledger extends Effect.Service<Ledger>()("mai-usage/Ledger", { scoped: make }) {}

/** The ledger with its SQLite file opened and migrated. */
export const layer = (filename: string, sync: LedgerSync = "full") =>
  Ledger.Default(filename, sync).pipe(Layer.provide(sqliteLayer(filename, migrations)))

/** Embedded mode: the ledger is the usage store. */
export const usageStoreLayer = Layer.effect(
  UsageStore,
  Effect.map(Ledger, (ledger) =>
    UsageStore.of({
      source: "ledger",
      aggregate: (w) => ledger.aggregate(w).pipe(Effect.mapError((e) => new UsageStoreError({ message: e.message }))),
      ensureComplete: () => Effect.void
    }))
)
