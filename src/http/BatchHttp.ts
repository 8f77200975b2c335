/** The handlers of `BatchApi`: the same `DailyBatch` program as the schedule and the CLI. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Clock, Effect, Either } from "effect"
import { AppConfig } from "../platform/Config.js"
import { dayOf } from "../domain/WarsawDay.js"
import { MaiApi } from "../api/Api.js"
import { Conflict, InvalidQuery, unavailable } from "../api/ApiErrors.js"
import { BatchRunsFailed, RunOutcome, RunResults } from "../api/BatchApi.js"
import { type BatchError, DailyBatch, requestedDays, type RunResult, runDays } from "../billing/DailyBatch.js"
import { SummaryRepo } from "../billing/SummaryRepo.js"

const outcome = (day: string, o: Either.Either<RunResult, BatchError>): RunOutcome =>
  Either.match(o, {
    onRight: (r) =>
      new RunOutcome({
        usageDate: r.day,
        status: "succeeded",
        runId: r.runId,
        events: r.events,
        rows: r.rows,
        corrections: r.corrections,
        totalUsd: r.totalUsd,
        totalPln: r.totalPln,
        rate: r.rate,
        rateTable: r.rateTable,
        rateDate: r.rateDate,
        markup: r.markup,
        source: r.source,
        error: null
      }),
    onLeft: (e) =>
      new RunOutcome({
        usageDate: day,
        status: "failed",
        runId: e._tag === "BatchRunFailed" ? e.runId : null,
        events: null,
        rows: null,
        corrections: null,
        totalUsd: null,
        totalPln: null,
        rate: null,
        rateTable: null,
        rateDate: null,
        markup: null,
        source: null,
        error: e.message
      })
  })

export const BatchApiLive = HttpApiBuilder.group(MaiApi, "batch", (handlers) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const batch = yield* DailyBatch
    const repo = yield* SummaryRepo
    return handlers
      .handle("run", ({ urlParams }) =>
        Effect.gen(function*() {
          const today = dayOf(yield* Clock.currentTimeMillis, config.dailyBatchTimeZone)
          const days = yield* Either.match(requestedDays(urlParams, today, (p) => p), {
            onLeft: (message) => Effect.fail(new InvalidQuery({ message })),
            onRight: Effect.succeed
          })
          const outcomes = yield* runDays(batch, days, "api")
          const busy = outcomes.find((o) => Either.isLeft(o) && o.left._tag === "BatchBusy")
          if (busy !== undefined && Either.isLeft(busy)) {
            return yield* Effect.fail(new Conflict({ message: busy.left.message }))
          }
          const results = outcomes.map((o, i) => outcome(days[i], o))
          const failed = results.filter((r) => r.status === "failed")
          if (failed.length > 0) {
            return yield* Effect.fail(
              new BatchRunsFailed({
                message: `${failed.length} of ${results.length} runs failed; first: ${failed[0].usageDate}: ${failed[0].error}`,
                results
              })
            )
          }
          return new RunResults({ results })
        }))
      .handle("runs", ({ urlParams }) =>
        repo.listRuns(urlParams.limit ?? 50).pipe(
          Effect.map((runs) => ({ runs })),
          Effect.mapError(unavailable)
        ))
  }))
