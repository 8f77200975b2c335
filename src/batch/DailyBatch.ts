/**
 * The daily batch: one program, run identically by the scheduler, the CLI and the admin
 * API. For usage day D: make the store complete for D's window → aggregate per (user, model) →
 * the NBP rate for D by the configured rule → cost_usd exact, cost_pln = round_half_up(cost_usd ×
 * markup × rate, 2) per row → one transaction. Depends on interfaces only.
 *
 * One run at a time: an in-process semaphore, then the cross-process lock in the summary DB
 * (server, a CLI in the same container and the API all share that file). A run that cannot get
 * the lock within `lockWait` is refused with the holder named; it never interleaves.
 */
import { BigDecimal, Cause, Clock, Context, Duration, Effect, Either, Layer, Option, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import { AccountingRepo } from "../accounting/AccountingRepo.js"
import { MarkupHistory } from "../accounting/MarkupHistory.js"
import { firstOpenMonthAfter } from "../accounting/Periods.js"
import { rootFilePath } from "../Assets.js"
import { AppConfig } from "../Config.js"
import { costPln, formatDecimal, formatUsd } from "../domain/Money.js"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import { addDays, dayOf, daysBetween, dayWindow, daysFrom, monthOf, parseDay } from "../domain/WarsawDay.js"
import { Metrics } from "../http/Metrics.js"
import { NbpRate, type RateQuote } from "../rates/NbpRate.js"
import { UsageStore } from "../store/UsageStore.js"
import { type DayRow, type LockHolder, SummaryRepo, type Trigger } from "./SummaryRepo.js"

export type { Trigger } from "./SummaryRepo.js"

/** A run that started and failed: recorded as failed in batch_runs, nothing written. */
export class BatchRunFailed extends Schema.TaggedError<BatchRunFailed>()("BatchRunFailed", {
  day: Schema.String,
  runId: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

/** Another run holds the batch lock and did not release it in time. No run was recorded. */
export class BatchBusy extends Schema.TaggedError<BatchBusy>()("BatchBusy", {
  day: Schema.String,
  message: Schema.String
}) {}

export type BatchError = BatchRunFailed | BatchBusy

export interface RunResult {
  readonly runId: number
  readonly day: string
  readonly trigger: Trigger
  readonly events: number
  /** rows the day has after the run */
  readonly rows: number
  /** rows inserted, updated or deleted */
  readonly rowsChanged: number
  readonly corrections: number
  /** sums of the rows, so they always match the lines shown */
  readonly totalUsd: string
  readonly totalPln: string
  /** null when the day had no usage and no rate was needed */
  readonly rate: string | null
  readonly rateTable: string | null
  readonly rateDate: string | null
  readonly markup: string
  readonly source: "ledger" | "influxdb"
  /**
   * Set when the day's month is closed: its rows were left as they are and the differences were
   * booked as adjustment rows into this month (0 rows when nothing differed).
   */
  readonly adjustedInto: { readonly month: string; readonly rows: number } | null
}

export interface DailyBatchShape {
  readonly run: (day: string, trigger: Trigger) => Effect.Effect<RunResult, BatchError>
  /**
   * Days before `today` (at most 31 back) with no successful run that have usage or follow a
   * successful run, oldest first.
   */
  readonly missedDays: (today: string) => Effect.Effect<ReadonlyArray<string>, BatchRunFailed>
}

export class DailyBatch extends Context.Tag("mai-usage/DailyBatch")<DailyBatch, DailyBatchShape>() {}

export const CATCH_UP_DAYS = 31

export const LAST_SUCCESS_METRIC = "mai_batch_last_success_timestamp_seconds"
export const LAST_SUCCESS_HELP = "Unix time of the last successful daily batch run (any process: server, CLI, API)"
/** The most days one CLI or API request may reprocess. */
export const MAX_RANGE_DAYS = 366

export interface DailyBatchOptions {
  /** how long a run waits for another process's run to finish before it is refused */
  readonly lockWait?: Duration.DurationInput
  /** a lock not renewed for this long belongs to a dead process */
  readonly lockTtl?: Duration.DurationInput
}

export const CODE_VERSION: string = (() => {
  try {
    return String(JSON.parse(Fs.readFileSync(rootFilePath("package.json"), "utf8")).version)
  } catch {
    return "unknown"
  }
})()

/**
 * Checks a request for days [from, to]: finished days only (before today in the zone), from ≤ to,
 * at most MAX_RANGE_DAYS. Returns the one-line reason when refused.
 */
export const checkRange = (
  from: string,
  to: string,
  today: string,
  name: (param: "from" | "to") => string = (p) => `--${p}`
): string | undefined => {
  if (from > to) return `${name("from")} ${from} is after ${name("to")} ${to}`
  if (to >= today) return `${to} is not over yet (today is ${today}); only finished days can be summarised`
  const n = daysBetween(from, to) + 1
  if (n > MAX_RANGE_DAYS) return `${n} days requested; at most ${MAX_RANGE_DAYS} per run`
  return undefined
}

export interface DaysRequest {
  readonly date?: string | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
}

/**
 * The days a CLI or API request asks for: `date`, or `from`..`to`, or else yesterday. Each day is
 * parsed strictly; the answer is the days oldest first, or the one-line reason they are refused.
 */
export const requestedDays = (
  request: DaysRequest,
  today: string,
  /** how the reason names a parameter: `--date` for the CLI, `date` for the API */
  name: (param: "date" | "from" | "to") => string = (p) => `--${p}`
): Either.Either<Array<string>, string> => {
  const { date, from, to } = request
  if (date !== undefined && (from !== undefined || to !== undefined)) {
    return Either.left(`${name("date")} cannot be combined with ${name("from")}/${name("to")}`)
  }
  if ((from === undefined) !== (to === undefined)) return Either.left(`${name("from")} and ${name("to")} go together`)
  const parse = (param: "date" | "from" | "to", s: string) => Either.mapLeft(parseDay(s), (e) => `${name(param)}: ${e.message}`)
  return Either.gen(function*() {
    const first = from !== undefined ? yield* parse("from", from) : date !== undefined ? yield* parse("date", date) : addDays(today, -1)
    const last = to !== undefined ? yield* parse("to", to) : first
    const refused = checkRange(first, last, today, name)
    if (refused !== undefined) return yield* Either.left(refused)
    return daysFrom(first, last)
  })
}

/** Runs the days oldest first; stops early only when the lock stays busy (later days would wait too). */
export const runDays = (batch: DailyBatchShape, days: ReadonlyArray<string>, trigger: Trigger) =>
  Effect.gen(function*() {
    const outcomes: Array<Either.Either<RunResult, BatchError>> = []
    for (const day of days) {
      const outcome = yield* Effect.either(batch.run(day, trigger))
      outcomes.push(outcome)
      if (Either.isLeft(outcome) && outcome.left._tag === "BatchBusy") break
    }
    return outcomes
  })

const messageOf = (e: unknown): string => {
  if (typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "") {
    return e.message
  }
  return String(e)
}

const describeHolder = (h: LockHolder) =>
  `another batch run is in progress (day ${h.usageDate}, pid ${h.pid} on ${h.host}, since ${
    new Date(h.acquiredAt).toISOString()
  })`

export const make = (options: DailyBatchOptions = {}) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* UsageStore
    const nbp = yield* NbpRate
    const repo = yield* SummaryRepo
    const metrics = yield* Metrics
    const markups = yield* MarkupHistory
    const accounting = yield* AccountingRepo
    const lockWait = Duration.toMillis(options.lockWait ?? Duration.seconds(30))
    const lockTtl = Duration.toMillis(options.lockTtl ?? Duration.seconds(60))
    const runsTotal = metrics.counter("mai_batch_runs_total", "Daily batch runs by status")
    const lastSuccess = metrics.gauge(LAST_SUCCESS_METRIC, LAST_SUCCESS_HELP)
    const semaphore = yield* Effect.makeSemaphore(1)
    const owner = `${Os.hostname()}:${process.pid}:${Crypto.randomBytes(6).toString("hex")}`
    const tz = config.dailyBatchTimeZone
    const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    const lock = (day: string) =>
      Effect.gen(function*() {
        const deadline = (yield* Clock.currentTimeMillis) + lockWait
        while (true) {
          const now = yield* Clock.currentTimeMillis
          const holder = yield* repo.tryLock(owner, day, now, lockTtl).pipe(
            Effect.mapError((e) => new BatchBusy({ day, message: e.message }))
          )
          if (Option.isNone(holder)) return
          if (now >= deadline) return yield* Effect.fail(new BatchBusy({ day, message: describeHolder(holder.value) }))
          yield* Effect.sleep(Duration.millis(Math.min(500, deadline - now)))
        }
      })

    const heartbeat = Effect.gen(function*() {
      while (true) {
        yield* Effect.sleep(Duration.millis(lockTtl / 4))
        const now = yield* Clock.currentTimeMillis
        yield* repo.renewLock(owner, now, lockTtl).pipe(
          Effect.catchAll((e) => Effect.logWarning("batch lock renewal failed", { error: e.message }))
        )
      }
    })

    const holdingLock = <A, E, R>(day: string, body: Effect.Effect<A, E, R>) =>
      Effect.scoped(
        Effect.gen(function*() {
          yield* Effect.acquireRelease(lock(day), () => Effect.ignore(repo.unlock(owner)))
          yield* Effect.forkScoped(heartbeat)
          return yield* body
        })
      )

    // Each day is priced with the markup in force on that day (markup_history), never today's.
    const toRow = (a: UsageAggregate, quote: RateQuote, markup: string): DayRow => ({
      ...a,
      costUsd: formatUsd(a.costNusd),
      markup,
      rate: quote.rateText,
      rateTable: quote.table,
      rateDate: quote.effectiveDate,
      costPln: formatDecimal(costPln(a.costNusd, BigDecimal.unsafeFromString(markup), quote.rate), 2)
    })

    const summarise = (day: string, trigger: Trigger) =>
      Effect.gen(function*() {
        const startedAt = yield* isoNow
        const dbFailed = (e: { readonly message: string }) => new BatchRunFailed({ day, runId: null, message: e.message })
        const markupText = yield* Effect.mapError(markups.markupFor(day), dbFailed)
        // Under the batch lock, which closing a month takes too: the state cannot change mid-run.
        const closed = yield* Effect.mapError(accounting.closedSet, dbFailed)
        const runId = yield* repo.startRun({
          usageDate: day,
          clientOrgId: config.clientOrgId,
          trigger,
          startedAt,
          markup: markupText,
          source: store.source,
          codeVersion: CODE_VERSION
        }).pipe(Effect.mapError((e) => new BatchRunFailed({ day, runId: null, message: e.message })))

        const steps = Effect.gen(function*() {
          const w = dayWindow(day, tz)
          const window = { clientOrgId: config.clientOrgId, start: w.start, end: w.end }
          yield* store.ensureComplete(window)
          const aggregates = yield* store.aggregate(window)
          // A day without usage needs no rate: an NBP outage must not fail an empty day.
          const quote = aggregates.length === 0 ? undefined : yield* nbp.forUsageDay(day, config.exchangeRateRule)
          const rows = quote === undefined ? [] : aggregates.map((a) => toRow(a, quote, markupText))
          const events = aggregates.reduce((n, a) => n + a.requests, 0)
          if (closed.has(monthOf(day))) {
            const intoMonth = firstOpenMonthAfter(monthOf(day), closed)
            const booked = yield* repo.commitClosedDay({
              runId,
              usageDate: day,
              clientOrgId: config.clientOrgId,
              found: aggregates,
              dayPricing: quote === undefined
                ? undefined
                : { markup: markupText, rate: quote.rateText, rateTable: quote.table, rateDate: quote.effectiveDate },
              intoMonth,
              reason: `${monthOf(day)} was closed; run #${runId} (${trigger}) found different figures for ${day}`,
              events,
              at: yield* isoNow
            })
            const adjusted: RunResult = {
              runId,
              day,
              trigger,
              events,
              rows: booked.frozenRows,
              rowsChanged: booked.adjustments.length,
              corrections: booked.adjustments.length,
              totalUsd: formatUsd(booked.adjustments.reduce((s, r) => s + r.costNusd, 0n)),
              totalPln: formatDecimal(
                booked.adjustments.reduce(
                  (s, r) => BigDecimal.sum(s, BigDecimal.unsafeFromString(r.costPln)),
                  BigDecimal.fromBigInt(0n)
                ),
                2
              ),
              rate: booked.pricing?.rate ?? null,
              rateTable: booked.pricing?.rateTable ?? null,
              rateDate: booked.pricing?.rateDate ?? null,
              markup: booked.pricing?.markup ?? markupText,
              source: store.source,
              adjustedInto: { month: intoMonth, rows: booked.adjustments.length }
            }
            return adjusted
          }
          const committed = yield* repo.commitDay({
            runId,
            usageDate: day,
            clientOrgId: config.clientOrgId,
            rows,
            rate: quote === undefined
              ? undefined
              : {
                rule: config.exchangeRateRule,
                rate: quote.rateText,
                tableNo: quote.table,
                effectiveDate: quote.effectiveDate
              },
            events,
            at: yield* isoNow
          })
          const result: RunResult = {
            runId,
            day,
            trigger,
            events,
            rows: committed.rowsWritten,
            rowsChanged: committed.rowsChanged,
            corrections: committed.corrections,
            totalUsd: formatUsd(rows.reduce((s, r) => s + r.costNusd, 0n)),
            totalPln: formatDecimal(
              rows.reduce((s, r) => BigDecimal.sum(s, BigDecimal.unsafeFromString(r.costPln)), BigDecimal.fromBigInt(0n)),
              2
            ),
            rate: quote?.rateText ?? null,
            rateTable: quote?.table ?? null,
            rateDate: quote?.effectiveDate ?? null,
            markup: markupText,
            source: store.source,
            adjustedInto: null
          }
          return result
        })

        const recordFailure = (message: string) =>
          Effect.flatMap(isoNow, (at) =>
            repo.failRun(runId, message, at).pipe(
              Effect.catchAll((e) => Effect.logError("could not record a failed batch run", { runId, error: e.message }))
            ))

        return yield* steps.pipe(
          Effect.onInterrupt(() => recordFailure("interrupted")),
          Effect.catchAllCause((cause) => {
            const failure = Option.match(Cause.failureOption(cause), {
              onNone: () => `unexpected error: ${Cause.pretty(cause).split("\n")[0]}`,
              onSome: messageOf
            })
            return Effect.zipRight(recordFailure(failure), Effect.fail(new BatchRunFailed({ day, runId, message: failure })))
          })
        )
      })

    const run: DailyBatchShape["run"] = (day, trigger) =>
      semaphore.withPermits(1)(holdingLock(day, summarise(day, trigger))).pipe(
        Effect.tap((r) =>
          Effect.gen(function*() {
            runsTotal.inc({ status: "succeeded" })
            lastSuccess.set((yield* Clock.currentTimeMillis) / 1000)
            yield* Effect.logInfo("batch run succeeded", {
              day,
              trigger,
              runId: r.runId,
              rows: r.rows,
              corrections: r.corrections,
              totalUsd: r.totalUsd,
              totalPln: r.totalPln,
              rateTable: r.rateTable
            })
          })
        ),
        Effect.tapError((e) =>
          Effect.zipRight(
            Effect.sync(() => runsTotal.inc({ status: e._tag === "BatchBusy" ? "refused" : "failed" })),
            Effect.logWarning("batch run failed", { day, trigger, error: e.message })
          )
        ),
        Effect.withLogSpan("batch")
      )

    const missedDays: DailyBatchShape["missedDays"] = (today) =>
      Effect.gen(function*() {
        const candidates = yield* repo.catchUpCandidates(
          config.clientOrgId,
          addDays(today, -CATCH_UP_DAYS),
          addDays(today, -1)
        )
        const unknown = candidates.filter((c) => !c.followsSuccess)
        const used = new Set<string>()
        if (unknown.length > 0) {
          // One query over the whole span first: a fresh install without usage stops here.
          const span = {
            clientOrgId: config.clientOrgId,
            start: dayWindow(unknown[0].day, tz).start,
            end: dayWindow(unknown[unknown.length - 1].day, tz).end
          }
          if ((yield* store.aggregate(span)).length > 0) {
            for (const c of unknown) {
              const w = dayWindow(c.day, tz)
              const rows = yield* store.aggregate({ clientOrgId: config.clientOrgId, start: w.start, end: w.end })
              if (rows.length > 0) used.add(c.day)
            }
          }
        }
        return candidates.filter((c) => c.followsSuccess || used.has(c.day)).map((c) => c.day)
      }).pipe(Effect.mapError((e) => new BatchRunFailed({ day: today, runId: null, message: e.message })))

    return DailyBatch.of({ run, missedDays })
  })

export const layer = (options: DailyBatchOptions = {}) => Layer.effect(DailyBatch, make(options))

/** Today's date in the batch's time zone, by the Effect clock. */
export const today = Effect.map(
  Effect.zip(AppConfig, Clock.currentTimeMillis),
  ([config, now]) => dayOf(now, config.dailyBatchTimeZone)
)
