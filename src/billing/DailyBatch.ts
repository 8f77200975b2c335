/**
 * The daily batch: one program, run identically by the scheduler, the CLI and the admin
 * API. For usage day D: make the store complete for D's window → aggregate per (user, model) →
 * the NBP rate for D by the configured rule → price each row (`Pricing.ts`) → one transaction.
 * Depends on interfaces only. One run at a time (`BatchLock.ts`); every run that starts is
 * recorded (`RunRecord.ts`); which days a request covers is `Days.ts`.
 */
import { Clock, Effect, Either } from "effect"
import { MarkupHistory } from "./MarkupHistory.js"
import { firstOpenMonthAfter } from "./Periods.js"
import { AppConfig } from "../platform/Config.js"
import { addDays, dayOf, dayWindow, monthOf } from "../domain/WarsawDay.js"
import { Metrics } from "../platform/Metrics.js"
import { NbpRate } from "../rates/NbpRate.js"
import { pendingCostsMessage } from "../store/Ledger.js"
import { UsageStore, UsageStoreError } from "../store/UsageStore.js"
import { BatchLock } from "./BatchLock.js"
import { CATCH_UP_DAYS } from "./Days.js"
import { priceRow, totals } from "./Pricing.js"
import { CODE_VERSION } from "../platform/Version.js"
import { type BatchError, BatchRunFailed, failureLine, type RunResult, type Trigger } from "./RunRecord.js"
import { SummaryRepo } from "./SummaryRepo.js"

export type { BatchLockOptions as DailyBatchOptions } from "./BatchLock.js"
export { CATCH_UP_DAYS, checkRange, type DaysRequest, MAX_RANGE_DAYS, requestedDays } from "./Days.js"
export { type BatchError, BatchBusy, BatchRunFailed, type RunResult, type Trigger } from "./RunRecord.js"

export interface DailyBatchShape {
  readonly run: (day: string, trigger: Trigger) => Effect.Effect<RunResult, BatchError>
  /**
   * Days before `today` (at most 31 back) with no successful run that have usage or follow a
   * successful run, oldest first.
   */
  readonly missedDays: (today: string) => Effect.Effect<ReadonlyArray<string>, BatchRunFailed>
}

export const LAST_SUCCESS_METRIC = "mai_batch_last_success_timestamp_seconds"
export const LAST_SUCCESS_HELP = "Unix time of the last successful daily batch run (any process: server, CLI, API)"

/**
 * Over AppConfig, UsageStore, NbpRate, SummaryRepo, MarkupHistory, BatchLock and Metrics, all
 * chosen at wiring (`BatchLive.ts`).
 */
export class DailyBatch extends Effect.Service<DailyBatch>()("mai-usage/DailyBatch", {
  effect:
    Effect.gen(function*() {
      const { config, lock, markups, metrics, nbp, repo, store } = yield* Effect.all({
        config: AppConfig,
        store: UsageStore,
        nbp: NbpRate,
        repo: SummaryRepo,
        metrics: Metrics,
        markups: MarkupHistory,
        lock: BatchLock
      })
      const { holding } = lock
      const runsTotal = metrics.counter("mai_batch_runs_total", "Daily batch runs by status", ["status"])
      const lastSuccess = metrics.gauge(LAST_SUCCESS_METRIC, LAST_SUCCESS_HELP)
      const tz = config.dailyBatchTimeZone
      const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

      /** The run of a started run: aggregate, price, commit (or book adjustments when the month is closed). */
      const steps = (day: string, trigger: Trigger, runId: number, markup: string, closed: ReadonlySet<string>) =>
        Effect.gen(function*() {
          const w = dayWindow(day, tz)
          const window = { clientOrgId: config.clientOrgId, start: w.start, end: w.end }
          yield* store.ensureComplete(window)
          // A cost still pending is never summarised as 0: the day waits until it is filled.
          const pending = (yield* store.pending(window)).reduce((n, p) => n + p.requests, 0)
          if (pending > 0) return yield* new UsageStoreError({ message: pendingCostsMessage(pending) })
          const aggregates = yield* store.aggregate(window)
          // A day without usage needs no rate: an NBP outage must not fail an empty day.
          const quote = aggregates.length === 0 ? undefined : yield* nbp.forUsageDay(day, config.exchangeRateRule)
          const rows = quote === undefined ? [] : aggregates.map((a) => priceRow(a, quote, markup))
          const events = aggregates.reduce((n, a) => n + a.requests, 0)
          const common = { runId, day, trigger, events, source: store.source }
          if (closed.has(monthOf(day))) {
            const intoMonth = firstOpenMonthAfter(monthOf(day), closed)
            const booked = yield* repo.commitClosedDay({
              runId,
              usageDate: day,
              clientOrgId: config.clientOrgId,
              found: aggregates,
              dayPricing: quote === undefined
                ? undefined
                : { markup, rate: quote.rateText, rateTable: quote.table, rateDate: quote.effectiveDate },
              intoMonth,
              reason: `${monthOf(day)} was closed; run #${runId} (${trigger}) found different figures for ${day}`,
              events,
              at: yield* isoNow
            })
            const adjusted: RunResult = {
              ...common,
              rows: booked.frozenRows,
              rowsChanged: booked.adjustments.length,
              corrections: booked.adjustments.length,
              ...totals(booked.adjustments),
              rate: booked.pricing?.rate ?? null,
              rateTable: booked.pricing?.rateTable ?? null,
              rateDate: booked.pricing?.rateDate ?? null,
              markup: booked.pricing?.markup ?? markup,
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
            ...common,
            rows: committed.rowsWritten,
            rowsChanged: committed.rowsChanged,
            corrections: committed.corrections,
            ...totals(rows),
            rate: quote?.rateText ?? null,
            rateTable: quote?.table ?? null,
            rateDate: quote?.effectiveDate ?? null,
            markup,
            adjustedInto: null
          }
          return result
        })

      /** Records the run in batch_runs, then runs its steps; a failure is recorded as the run's failure. */
      const summarise = (day: string, trigger: Trigger) =>
        Effect.gen(function*() {
          const startedAt = yield* isoNow
          const dbFailed = (e: { readonly message: string }) => new BatchRunFailed({ day, runId: null, message: e.message })
          const markupText = yield* Effect.mapError(markups.markupFor(day), dbFailed)
          // Under the batch lock, which closing a month takes too: the state cannot change mid-run.
          const closed = yield* Effect.mapError(repo.closedSet, dbFailed)
          const runId = yield* repo.startRun({
            usageDate: day,
            clientOrgId: config.clientOrgId,
            trigger,
            startedAt,
            markup: markupText,
            source: store.source,
            codeVersion: CODE_VERSION
          }).pipe(Effect.mapError(dbFailed))

          const recordFailure = (message: string) =>
            Effect.flatMap(isoNow, (at) =>
              repo.failRun(runId, message, at).pipe(
                Effect.catchAll((e) => Effect.logError("could not record a failed batch run", { runId, error: e.message }))
              ))

          return yield* steps(day, trigger, runId, markupText, closed).pipe(
            Effect.onInterrupt(() => recordFailure("interrupted")),
            Effect.catchAllCause((cause) => {
              const failure = failureLine(cause)
              return Effect.zipRight(recordFailure(failure), Effect.fail(new BatchRunFailed({ day, runId, message: failure })))
            })
          )
        })

      const run: DailyBatchShape["run"] = (day, trigger) =>
        holding(day, summarise(day, trigger)).pipe(
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

      const service: DailyBatchShape = { run, missedDays }
      return service
    })
}) {}

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

/** Today's date in the batch's time zone, by the Effect clock. */
export const today = Effect.map(
  Effect.zip(AppConfig, Clock.currentTimeMillis),
  ([config, now]) => dayOf(now, config.dailyBatchTimeZone)
)
