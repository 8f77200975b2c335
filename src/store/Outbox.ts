/**
 * InfluxDB mode: the ledger is an outbox. Rows go to InfluxDB in batches and are marked
 * flushed only after InfluxDB answered 2xx, so a failure at any point leaves them for the next try
 * (a rewritten point lands on itself: see domain/PointTime.ts). Nothing is ever dropped: while
 * InfluxDB fails the flusher backs off (1 s doubling to 60 s, jittered) and keeps everything.
 *
 * One row InfluxDB refuses for good (see `InfluxClient.isRefusedForGood`) never blocks the rows
 * behind it: the refused batch is halved until the refused rows stand alone (InfluxDB 1.x names a
 * refused line only by its text, cut short, so bisecting is the reliable way), the rest is written
 * and marked flushed, and each refused row is quarantined in the ledger with InfluxDB's reason. A
 * row whose tags InfluxDB could not take is quarantined before it is ever sent. Quarantined rows
 * stay unflushed (never pruned) and wait for `mai-usage outbox retry` after the operator's fix;
 * a batch run for their day fails until then. 401/403 are configuration errors: the flusher backs
 * off and alerts (error log, `mai_influxdb_auth_failures_total`), and never quarantines for them.
 *
 * `Outbox` is the drain itself, shared by the background flusher and `UsageStore.ensureComplete`
 * (one at a time, behind a semaphore). `flusherLayer` is the background fiber `serve` runs: it
 * polls every second, prunes rows flushed more than 35 days ago every hour, reports metrics and
 * readiness, and on shutdown tries a last drain bounded to 10 s.
 */
import { Cause, Clock, Duration, Effect, Either, Layer, Schedule } from "effect"
import { Metrics } from "../platform/Metrics.js"
import { Readiness } from "../platform/Readiness.js"
import * as InfluxClient from "./InfluxClient.js"
import { Ledger, type LedgerRow, type LedgerUnavailable } from "./Ledger.js"
import { toLineProtocol, unsendable } from "./UsagePoint.js"

export const BATCH_SIZE = 5_000
export const POLL_INTERVAL = Duration.seconds(1)
export const RETENTION = Duration.days(35)
export const PRUNE_INTERVAL = Duration.hours(1)
export const SHUTDOWN_FLUSH = Duration.seconds(10)
/**
 * Above this backlog /ready flags the outbox as lagging (still `ok`: the ledger keeps every row,
 * and refusing traffic would not help InfluxDB). Two full batches: a healthy flusher stays under
 * one batch even at the webhook's benchmark rate.
 */
export const BACKLOG_WARNING = 2 * BATCH_SIZE

export const backoff = Schedule.exponential("1 second").pipe(
  Schedule.union(Schedule.spaced("60 seconds")),
  Schedule.jittered
)

export interface OutboxStatus {
  readonly lastSuccessAtMs: number | undefined
  readonly lastFailureAtMs: number | undefined
  readonly lastError: string | undefined
  /** The HTTP status of the last failure, when InfluxDB answered. */
  readonly lastErrorStatus: number | undefined
  readonly consecutiveFailures: number
}

export interface OutboxShape {
  /** Writes unflushed rows until none are left; the number written. Fails on the first failed batch. */
  readonly drain: Effect.Effect<number, InfluxClient.InfluxError | LedgerUnavailable>
  readonly status: Effect.Effect<OutboxStatus>
}

const make = (batchSize = BATCH_SIZE) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const client = yield* InfluxClient.InfluxClient
    const metrics = yield* Metrics
    const written = metrics.counter("mai_outbox_points_written_total", "Points InfluxDB acknowledged")
    const failures = metrics.counter("mai_outbox_flush_failures_total", "Outbox batches InfluxDB did not acknowledge")
    const lastSuccess = metrics.gauge(
      "mai_outbox_last_flush_success_timestamp_seconds",
      "When the outbox last drained completely"
    )
    const quarantinedTotal = metrics.counter(
      "mai_outbox_quarantined_total",
      "Ledger rows set aside because InfluxDB refused them for good (or could not take their tags)"
    )
    const authFailures = metrics.counter(
      "mai_influxdb_auth_failures_total",
      "InfluxDB writes refused with 401/403 (a configuration error: the token or its permissions)"
    )
    written.inc({}, 0)
    failures.inc({}, 0)
    quarantinedTotal.inc({}, 0)
    authFailures.inc({}, 0)
    const lock = yield* Effect.makeSemaphore(1)
    const measurement = client.settings.measurement
    let status: OutboxStatus = {
      lastSuccessAtMs: undefined,
      lastFailureAtMs: undefined,
      lastError: undefined,
      lastErrorStatus: undefined,
      consecutiveFailures: 0
    }

    const setAside = (rows: ReadonlyArray<{ readonly row: LedgerRow; readonly reason: string }>) =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        yield* ledger.quarantine(rows.map(({ reason, row }) => ({ id: row.id, reason })), yield* Clock.currentTimeMillis)
        quarantinedTotal.inc({}, rows.length)
        for (const { reason, row } of rows) {
          yield* Effect.logError("outbox row quarantined (InfluxDB refused it for good, or could not take its tags); the rows behind it go on", {
            ledgerId: String(row.id),
            generationId: row.generationId.slice(0, 80),
            reason,
            inspect: "mai-usage outbox list"
          })
        }
      })

    /** Writes the rows; a batch refused for good is halved until the refused rows stand alone. */
    const writeRows = (rows: ReadonlyArray<LedgerRow>): Effect.Effect<void, InfluxClient.InfluxError | LedgerUnavailable> =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        const result = yield* Effect.either(client.write(rows.map((row) => toLineProtocol(row, measurement)).join("\n")))
        if (Either.isRight(result)) {
          yield* ledger.markFlushed(rows.map((row) => row.id), yield* Clock.currentTimeMillis)
          written.inc({}, rows.length)
          return
        }
        const e = result.left
        if (InfluxClient.isConfigurationError(e)) authFailures.inc()
        // 413: too large, not wrong — smaller halves may pass; a single row that is still too large waits.
        const narrow = InfluxClient.isRefusedForGood(e) || (e.status === 413 && rows.length > 1)
        if (!narrow) return yield* Effect.fail(e)
        if (rows.length === 1) {
          return yield* setAside([{ row: rows[0], reason: `HTTP ${e.status}: ${e.reason ?? e.message}` }])
        }
        const half = Math.ceil(rows.length / 2)
        yield* writeRows(rows.slice(0, half))
        yield* writeRows(rows.slice(half))
      })

    const flushBatch = Effect.gen(function*() {
      const rows = yield* ledger.unflushed(batchSize)
      if (rows.length === 0) return 0
      const unsent: Array<{ row: LedgerRow; reason: string }> = []
      const sendable: Array<LedgerRow> = []
      for (const row of rows) {
        const reason = unsendable(row)
        if (reason === undefined) sendable.push(row)
        else unsent.push({ row, reason })
      }
      yield* setAside(unsent)
      yield* writeRows(sendable)
      return rows.length
    })

    const drainAll = Effect.gen(function*() {
      let total = 0
      for (;;) {
        const n = yield* flushBatch
        total += n
        if (n < batchSize) return total
      }
    })

    const drain = lock.withPermits(1)(drainAll).pipe(
      Effect.tap(() =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          status = { ...status, lastSuccessAtMs: now, consecutiveFailures: 0 }
          lastSuccess.set(Math.floor(now / 1000))
        })
      ),
      Effect.tapError((e) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          failures.inc()
          status = {
            ...status,
            lastFailureAtMs: now,
            lastError: e.message,
            lastErrorStatus: e._tag === "InfluxError" ? e.status : undefined,
            consecutiveFailures: status.consecutiveFailures + 1
          }
        })
      )
    )

    const outbox: OutboxShape = { drain, status: Effect.sync(() => status) }
    return outbox
  })

/** The outbox over the configured InfluxDB (InfluxDB mode only); over AppConfig, Ledger and Metrics. */
export class Outbox extends Effect.Service<Outbox>()("mai-usage/Outbox", {
  effect: make(),
  dependencies: [InfluxClient.layer]
}) {}

const errorText = (cause: Cause.Cause<unknown>) => {
  const e = Cause.squash(cause)
  return e instanceof Error ? e.message : String(e)
}

export const startFlusher = Effect.gen(function*() {
  const outbox = yield* Outbox
  const ledger = yield* Ledger
  const client = yield* InfluxClient.InfluxClient
  const metrics = yield* Metrics
  const readiness = yield* Readiness

  const backlogGauge = metrics.gauge("mai_outbox_backlog", "Ledger rows not yet written to InfluxDB")
  metrics.onScrape(ledger.backlog().pipe(Effect.tap((n) => backlogGauge.set(n)), Effect.ignore))
  const quarantinedGauge = metrics.gauge(
    "mai_outbox_quarantined",
    "Ledger rows InfluxDB refused for good, waiting for `mai-usage outbox retry`"
  )
  metrics.onScrape(ledger.quarantinedCount().pipe(Effect.tap((n) => quarantinedGauge.set(n)), Effect.ignore))
  const reachableGauge = metrics.gauge("mai_influxdb_reachable", "1 when InfluxDB answered /ping at the last scrape")
  metrics.onScrape(
    client.ping.pipe(Effect.match({ onSuccess: (s) => reachableGauge.set(s < 500 ? 1 : 0), onFailure: () => reachableGauge.set(0) }))
  )

  // Informational (always ok): the ledger keeps accepting while InfluxDB is away, so neither an
  // unreachable InfluxDB, a backlog nor quarantined rows make the service unready (503 is for the
  // ledger and the summary DB). Quarantined rows or refused credentials show as `degraded`.
  readiness.register(
    "influxdb",
    client.ping.pipe(
      Effect.map((status) => ({ ok: true, reachable: status < 500, status })),
      Effect.catchAll((e) => Effect.succeed({ ok: true, reachable: false, error: e.message }))
    )
  )
  readiness.register(
    "outbox",
    Effect.gen(function*() {
      const s = yield* outbox.status
      const backlog = yield* ledger.backlog().pipe(Effect.orElseSucceed(() => -1))
      const quarantined = yield* ledger.quarantinedCount().pipe(Effect.orElseSucceed(() => -1))
      const credentialsRefused = s.consecutiveFailures > 0 && (s.lastErrorStatus === 401 || s.lastErrorStatus === 403)
      return {
        ok: true,
        status: quarantined !== 0 || credentialsRefused ? "degraded" : "ok",
        backlog,
        quarantined,
        ...(quarantined > 0 ? { inspect: "mai-usage outbox list" } : {}),
        ...(credentialsRefused ? { credentialsRefused: true } : {}),
        lagging: backlog > BACKLOG_WARNING,
        consecutiveFailures: s.consecutiveFailures,
        lastFlushAt: s.lastSuccessAtMs === undefined ? null : new Date(s.lastSuccessAtMs).toISOString(),
        ...(s.consecutiveFailures > 0 ? { lastError: s.lastError } : {})
      }
    })
  )

  const flushLoop = outbox.drain.pipe(
    Effect.tapErrorCause((cause) => {
      const e = Cause.squash(cause)
      return e instanceof InfluxClient.InfluxError && InfluxClient.isConfigurationError(e)
        ? Effect.logError(
          "InfluxDB refuses the credentials: check INFLUXDB_TOKEN and its write permission on the bucket; " +
            "rows are kept and retried with back-off",
          { status: e.status, error: e.reason ?? e.message }
        )
        : Effect.logWarning("outbox flush failed; keeping the rows and retrying with back-off", { error: errorText(cause) })
    }),
    Effect.sandbox,
    Effect.retry(backoff),
    Effect.repeat(Schedule.spaced(POLL_INTERVAL))
  )

  const pruneLoop = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const pruned = yield* ledger.pruneFlushedBefore(now - Duration.toMillis(RETENTION))
    if (pruned > 0) yield* Effect.logInfo("pruned flushed ledger rows", { rows: pruned, olderThanDays: 35 })
  }).pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("ledger prune failed", { error: errorText(cause) })),
    Effect.repeat(Schedule.spaced(PRUNE_INTERVAL))
  )

  // Registered before the fibers are forked, so it runs after they are interrupted.
  yield* Effect.addFinalizer(() =>
    Effect.interruptible(outbox.drain).pipe(
      Effect.timeoutFail({ duration: SHUTDOWN_FLUSH, onTimeout: () => new Error("not done within 10 s") }),
      Effect.tap((n) => (n > 0 ? Effect.logInfo("outbox flushed on shutdown", { rows: n }) : Effect.void)),
      Effect.catchAllCause((cause) =>
        Effect.logWarning("outbox not fully flushed on shutdown; rows stay in the ledger", { error: errorText(cause) })
      )
    )
  )
  yield* Effect.forkScoped(flushLoop)
  yield* Effect.forkScoped(pruneLoop)
})

/** The background flusher `serve` runs in InfluxDB mode. */
export const flusherLayer = Layer.scopedDiscard(startFlusher).pipe(Layer.provide([Outbox.Default, InfluxClient.layer]))
