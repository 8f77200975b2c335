/** The batch over real files (ledger, summary DB) and the NBP stand-in, for tests that drive it directly. */
import { Effect, Layer, Logger, LogLevel, Option, Stream, SubscriptionRef } from "effect"
import { platformFromMap } from "../../src/platform/PlatformLive.js"
import { NbpRateLive } from "../../src/rates/RatesLive.js"
import { LedgerLive, SummaryDbLive, UsageStoreLive } from "../../src/store/StoreLive.js"
import { BatchServerLive, DailyBatchLive } from "../../src/billing/BatchLive.js"
import type { DailyBatchOptions } from "../../src/billing/DailyBatch.js"
import type { SchedulerPhase } from "../../src/billing/Scheduler.js"
import { baseVars } from "../support/app.js"

export const vars = (dataDir: string, nbpUrl: string, extra: Record<string, string> = {}) => ({
  ...baseVars(dataDir),
  NBP_API_URL: nbpUrl,
  ...extra
})

const quiet = Logger.minimumLogLevel(LogLevel.None)

/** What `serve` runs of the batch (schedule included when DAILY_BATCH_ENABLED=true), without HTTP. */
export const serverBatch = (v: Record<string, string>) =>
  BatchServerLive.pipe(
    Layer.provideMerge(UsageStoreLive),
    Layer.provideMerge(Layer.mergeAll(SummaryDbLive, NbpRateLive)),
    Layer.provideMerge(LedgerLive),
    Layer.provideMerge(platformFromMap(v)),
    Layer.provide(quiet)
  )

/** One process's DailyBatch (its own semaphore and lock owner) over the files of `v`. */
export const processBatch = (v: Record<string, string>, options: DailyBatchOptions = {}) =>
  DailyBatchLive(options).pipe(
    Layer.provideMerge(UsageStoreLive),
    Layer.provideMerge(Layer.mergeAll(SummaryDbLive, NbpRateLive)),
    Layer.provideMerge(LedgerLive),
    Layer.provideMerge(platformFromMap(v)),
    Layer.provide(quiet)
  )

/** Waits (in real time: runs do real I/O) until the scheduler sleeps until a moment after `after`. */
export const sleepingAfter = (phase: SubscriptionRef.SubscriptionRef<SchedulerPhase>, after: number) =>
  phase.changes.pipe(
    Stream.filter((p): p is Extract<SchedulerPhase, { _tag: "Sleeping" }> => p._tag === "Sleeping" && p.until > after),
    Stream.runHead,
    Effect.map(Option.getOrThrow)
  )

const warsawClock = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Warsaw",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit"
})
/** "27/03/2025, 13:00:00" */
export const warsawTime = (ms: number) => warsawClock.format(new Date(ms))
