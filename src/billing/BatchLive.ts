/**
 * Billing's layers, composed once: `DailyBatchLive` is the batch the CLI runs, `MonthsLive` the
 * month close and reopen, `InvoicesLive` the FA(3) invoice draft; `BillingLive` is all of billing for `serve` — the batch and its schedule,
 * months, statements, the markup recorded at start-up, the /ready checks and the metrics. Each is
 * self-contained over the platform (AppConfig, Metrics, Readiness), the summary DB, the usage store
 * and the NBP rate.
 */
import { Effect, Layer, Option, SubscriptionRef } from "effect"
import { AppConfig } from "../platform/Config.js"
import { Metrics } from "../platform/Metrics.js"
import { Readiness } from "../platform/Readiness.js"
import { BatchLock } from "./BatchLock.js"
import { Invoices } from "./Invoices.js"
import * as MarkupHistory from "./MarkupHistory.js"
import { Months } from "./Months.js"
import { Statements } from "./Statements.js"
import * as DailyBatch from "./DailyBatch.js"
import * as Scheduler from "./Scheduler.js"
import * as SummaryRepo from "./SummaryRepo.js"

/** The repository, the markup history and the one batch lock of this process. */
const BooksLive = (options: DailyBatch.DailyBatchOptions = {}) =>
  Layer.mergeAll(BatchLock.Default(options), MarkupHistory.MarkupHistory.Default).pipe(
    Layer.provideMerge(SummaryRepo.SummaryRepo.Default)
  )

/** DailyBatch over the books, and AppConfig, UsageStore, NbpRate, SummaryDb and Metrics. */
export const DailyBatchLive = (options: DailyBatch.DailyBatchOptions = {}) =>
  DailyBatch.DailyBatch.Default.pipe(Layer.provideMerge(BooksLive(options)))

/** Months and Statements over the books (the CLI's `month close|reopen`). */
export const MonthsLive = Months.Default.pipe(Layer.provideMerge(Statements.Default), Layer.provideMerge(BooksLive()))

/** The FA(3) invoice draft (with its Statements) over the repository (the CLI's `invoice draft`). */
export const InvoicesLive = Invoices.Default.pipe(Layer.provideMerge(SummaryRepo.SummaryRepo.Default))

/**
 * "summary DB": migrations applied and the file answers. "last batch": informational (a failed
 * batch must not take the webhook out of service), with the last run, the last success and the
 * schedule's next wake-up.
 */
const BatchReadiness = Layer.effectDiscard(
  Effect.gen(function*() {
    const readiness = yield* Readiness
    const repo = yield* SummaryRepo.SummaryRepo
    const scheduler = yield* Scheduler.BatchScheduler
    const config = yield* AppConfig
    readiness.register(
      "summaryDb",
      repo.check.pipe(Effect.as({ ok: true }), Effect.catchAll((e) => Effect.succeed({ ok: false, error: e.message })))
    )
    readiness.register(
      "lastBatch",
      Effect.gen(function*() {
        const [last] = yield* repo.listRuns(1)
        const success = yield* repo.lastSuccess(config.clientOrgId)
        const phase = yield* SubscriptionRef.get(scheduler.phase)
        return {
          ok: true,
          lastRun: last === undefined
            ? null
            : { id: last.id, usageDate: last.usageDate, status: last.status, finishedAt: last.finishedAt, error: last.error },
          lastSuccessAt: Option.match(success, { onNone: () => null, onSome: (r) => r.finishedAt }),
          schedule: phase._tag === "Sleeping"
            ? { next: phase.next, at: new Date(phase.until).toISOString(), failing: phase.failing }
            : { state: phase._tag }
        }
      }).pipe(Effect.catchAll((e) => Effect.succeed({ ok: false, error: e.message })))
    )
  })
)

/**
 * `mai_batch_last_success_timestamp_seconds` from batch_runs at each scrape, so it has its value
 * right after a restart and after runs of other processes (a CLI in the same container), not only
 * after runs of this one. A scrape that cannot read the summary DB keeps the last value.
 */
const BatchMetrics = Layer.effectDiscard(
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const repo = yield* SummaryRepo.SummaryRepo
    const config = yield* AppConfig
    const lastSuccess = metrics.gauge(DailyBatch.LAST_SUCCESS_METRIC, DailyBatch.LAST_SUCCESS_HELP)
    metrics.onScrape(
      repo.lastSuccess(config.clientOrgId).pipe(
        Effect.map(Option.flatMap((run) => Option.fromNullable(run.finishedAt))),
        Effect.map(Option.map((at) => Date.parse(at))),
        Effect.tap(Option.match({
          onNone: () => Effect.void,
          onSome: (ms) => Effect.sync(() => Number.isFinite(ms) && lastSuccess.set(ms / 1000))
        })),
        Effect.ignore
      )
    )
  })
)

/** For `serve`: the batch, its schedule, its readiness checks and its metrics (no months). */
export const BatchServerLive = Layer.mergeAll(BatchReadiness, BatchMetrics, MarkupHistory.RecordMarkupAtStart).pipe(
  Layer.provideMerge(Scheduler.BatchScheduler.Default),
  Layer.provideMerge(DailyBatchLive())
)

/** All of billing for `serve`: one batch lock shared by the runs and the month close. */
export const BillingLive = Layer.mergeAll(BatchReadiness, BatchMetrics, MarkupHistory.RecordMarkupAtStart, Months.Default).pipe(
  Layer.provideMerge(Layer.mergeAll(Scheduler.BatchScheduler.Default, Statements.Default)),
  Layer.provideMerge(DailyBatch.DailyBatch.Default),
  Layer.provideMerge(BooksLive())
)
