/**
 * The batch's layers, composed once: `DailyBatchLive` is what the CLI and the API run;
 * `BatchServerLive` adds the schedule and the /ready checks for `serve`.
 */
import { Effect, Layer, Option, SubscriptionRef } from "effect"
import { AppConfig } from "../Config.js"
import { Readiness } from "../http/Readiness.js"
import * as DailyBatch from "./DailyBatch.js"
import * as Scheduler from "./Scheduler.js"
import * as SummaryRepo from "./SummaryRepo.js"

/** DailyBatch and SummaryRepo, over AppConfig, UsageStore, NbpRate, SummaryDb and Metrics. */
export const DailyBatchLive = (options: DailyBatch.DailyBatchOptions = {}) =>
  DailyBatch.layer(options).pipe(Layer.provideMerge(SummaryRepo.layer))

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

/** For `serve`: the batch, its schedule and its readiness checks. */
export const BatchServerLive = BatchReadiness.pipe(
  Layer.provideMerge(Scheduler.layer),
  Layer.provideMerge(DailyBatchLive())
)
