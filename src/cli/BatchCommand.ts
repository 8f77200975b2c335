/**
 * `mai-usage batch --run-now [--date YYYY-MM-DD | --from A --to B]`: the daily batch
 * by hand, the same `DailyBatch` program as the schedule, without the HTTP server. Days are Warsaw
 * calendar days parsed strictly (not `Options.date`, which means UTC midnight and accepts 2025-2-3).
 * Exit 0 when every run succeeded, 1 when a run failed or another run held the lock, 2 on bad
 * arguments; each with a one-line reason.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Clock, Console, Effect, Either, Layer, Logger, LogLevel, Option } from "effect"
import { PlatformLive } from "../platform/PlatformLive.js"
import { NbpRateLive } from "../rates/RatesLive.js"
import { LedgerLive, SummaryDbLive, UsageStoreLive } from "../store/StoreLive.js"
import * as Config from "../platform/Config.js"
import { AppConfig } from "../platform/Config.js"
import { dayOf } from "../domain/WarsawDay.js"
import { plural } from "./Output.js"
import { ExitCode } from "../platform/ExitCode.js"
import { DailyBatchLive } from "../billing/BatchLive.js"
import { MarkupHistory } from "../billing/MarkupHistory.js"
import { DailyBatch, requestedDays, type RunResult, runDays } from "../billing/DailyBatch.js"

const runNow = Options.boolean("run-now").pipe(
  Options.withDescription("Run the daily batch now, in this process (required: without it nothing is done)")
)
const day = (name: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName("YYYY-MM-DD"), Options.withDescription(description), Options.optional)
const date = day("date", "The Warsaw calendar day to summarise (default: yesterday in DAILY_BATCH_TIMEZONE)")
const from = day("from", "First day of a range to reprocess, with --to (at most 366 days)")
const to = day("to", "Last day of the range, inclusive; must be over already")

/** The batch's layers for a one-off process: configuration from the environment, no server. */
export const BatchCliLive = DailyBatchLive().pipe(
  Layer.provideMerge(UsageStoreLive),
  Layer.provideMerge(Layer.mergeAll(SummaryDbLive, NbpRateLive, LedgerLive)),
  Layer.provideMerge(PlatformLive)
)

export const describe = (r: RunResult): string => {
  const rate = r.rateTable === null
    ? "no usage, no rate needed"
    : `NBP ${r.rateTable} of ${r.rateDate} at ${r.rate}, markup ${r.markup}`
  if (r.adjustedInto !== null) {
    return `${r.day}: run #${r.runId} succeeded: ${r.day.slice(0, 7)} is closed, its rows are unchanged; ` +
      (r.adjustedInto.rows === 0
        ? "no difference found, no adjustment"
        : `${r.adjustedInto.rows} adjustment row(s) into ${r.adjustedInto.month}: USD ${r.totalUsd}, PLN ${r.totalPln} (${rate})`)
  }
  return `${r.day}: run #${r.runId} succeeded: ${plural(r.rows, "row")}, ${plural(r.events, "event")}, ` +
    `total USD ${r.totalUsd}, PLN ${r.totalPln} (${rate}), ${plural(r.corrections, "correction")}`
}

const bad = (reason: string) => Effect.zipRight(Console.error(`batch: ${reason}`), Effect.fail(new ExitCode({ code: 2 })))

export const batchCommand = Command.make("batch", { runNow, date, from, to }, (args) =>
  Effect.gen(function*() {
    if (!args.runNow) return yield* bad("nothing to do: pass --run-now (with --date D, or --from A --to B)")
    // Arguments are checked before any database is opened, so exit 2 never touches data.
    const tz = yield* Effect.either(Effect.provide(AppConfig, Config.layer))
    const timeZone = Either.isRight(tz) ? tz.right.dailyBatchTimeZone : "Europe/Warsaw"
    const today = dayOf(yield* Clock.currentTimeMillis, timeZone)
    const days = requestedDays(
      { date: Option.getOrUndefined(args.date), from: Option.getOrUndefined(args.from), to: Option.getOrUndefined(args.to) },
      today
    )
    if (Either.isLeft(days)) return yield* bad(days.left)

    const failures = yield* Effect.gen(function*() {
      const batch = yield* DailyBatch
      const unrecorded = yield* Effect.orElseSucceed((yield* MarkupHistory).unrecorded, () => undefined)
      if (unrecorded !== undefined) yield* Console.error(`warning: ${unrecorded}`)
      const outcomes = yield* runDays(batch, days.right, "cli")
      let failed = 0
      for (const [i, o] of outcomes.entries()) {
        if (Either.isRight(o)) {
          yield* Console.log(describe(o.right))
        } else {
          failed++
          const run = o.left._tag === "BatchRunFailed" && o.left.runId !== null ? `run #${o.left.runId} ` : ""
          yield* Console.error(`${days.right[i]}: ${run}failed: ${o.left.message}`)
        }
      }
      const skipped = days.right.length - outcomes.length
      if (skipped > 0) yield* Console.error(`${plural(skipped, "later day")} not run: the batch lock stayed busy`)
      return failed + skipped
    }).pipe(Effect.provide(BatchCliLive))
    if (failures > 0) return yield* Effect.fail(new ExitCode({ code: 1 }))
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription(
      "Run the daily batch by hand for one Warsaw day (default yesterday) or a range of days, exactly as the " +
        "schedule does. Exit 0 when every day succeeded, 1 when a run failed, 2 on bad arguments."
    )
  )
