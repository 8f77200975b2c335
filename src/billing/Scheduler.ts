/**
 * The daily schedule: a `Cron` at DAILY_BATCH_TIME in DAILY_BATCH_TIMEZONE, parsed once
 * at start-up (DST-correct: 13:00 Warsaw is 12:00 UTC in winter, 11:00 UTC in summer).
 *
 * - start-up: catch up missed days (`DailyBatch.missedDays`), oldest first, trigger `catch-up`;
 * - each firing: yesterday and the 3 days before it (trigger `schedule`: late events become
 *   corrections), plus any missed days (trigger `catch-up`), oldest first;
 * - a round with a failure is retried every 15 minutes (failed days and missed days) until it
 *   succeeds or the next firing comes, which covers the same days again.
 * Every failure is logged; nothing stops the loop. Time comes from the Effect `Clock`, so the
 * whole schedule runs under `TestClock`.
 */
import { Cause, Clock, Cron, Duration, Effect, Either, SubscriptionRef } from "effect"
import { AppConfig, ConfigInvalid } from "../platform/Config.js"
import { addDays, dayOf, daysFrom, yesterday } from "../domain/WarsawDay.js"
import { DailyBatch, type Trigger } from "./DailyBatch.js"

export const RETRY_INTERVAL = Duration.minutes(15)
/** Days re-aggregated before yesterday at each firing. */
export const REAGGREGATE_DAYS = 3

export type SchedulerPhase =
  | { readonly _tag: "Disabled" }
  | { readonly _tag: "Running"; readonly round: "start-up" | "schedule" | "retry"; readonly at: number }
  /** waiting until `until` (epoch ms) for the next firing or the next retry */
  | { readonly _tag: "Sleeping"; readonly until: number; readonly next: "schedule" | "retry"; readonly failing: number }

/** The cron of a daily time in a zone; a bad time or zone is a configuration error. */
export const dailyCron = (time: { readonly hour: number; readonly minute: number }, timeZone: string) =>
  Either.mapLeft(
    Cron.parse(`0 ${time.minute} ${time.hour} * * *`, timeZone),
    (e) => new ConfigInvalid({ message: `DAILY_BATCH_TIME/DAILY_BATCH_TIMEZONE: ${e.message}` })
  )

/** The days of the firing at `firedAt`: the 3 days before yesterday, then yesterday. */
export const scheduledDays = (firedAt: number, timeZone: string): Array<string> => {
  const last = yesterday(firedAt, timeZone)
  return daysFrom(addDays(last, -REAGGREGATE_DAYS), last)
}

/** The schedule's loop: never ends; its phase is published in `phase`. */
export const runSchedule = (cron: Cron.Cron, phase: SubscriptionRef.SubscriptionRef<SchedulerPhase>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const batch = yield* DailyBatch
    const tz = config.dailyBatchTimeZone

    /** Runs the days oldest first; returns those that failed (to retry) and whether the round failed. */
    const runDays = (days: ReadonlyMap<string, Trigger>) =>
      Effect.gen(function*() {
        const failed = new Map<string, Trigger>()
        for (const day of [...days.keys()].sort()) {
          const trigger = days.get(day)!
          // DailyBatch logs each failure with its reason; the schedule only keeps the day to retry.
          const ok = yield* batch.run(day, trigger).pipe(
            Effect.as(true),
            Effect.catchAll(() => Effect.succeed(false)),
            Effect.catchAllDefect((d) => Effect.as(Effect.logError("batch run crashed", { day, defect: String(d) }), false))
          )
          if (!ok) failed.set(day, trigger)
        }
        return failed
      })

    /** A round: the given days plus every missed day. A failure to list missed days also retries. */
    const round = (kind: "start-up" | "schedule" | "retry", at: number, days: ReadonlyMap<string, Trigger>) =>
      Effect.gen(function*() {
        yield* SubscriptionRef.set(phase, { _tag: "Running", round: kind, at })
        const today = dayOf(at, tz)
        const all = new Map(days)
        let listFailed = false
        const missed = yield* batch.missedDays(today).pipe(
          Effect.catchAll((e) => {
            listFailed = true
            return Effect.as(Effect.logWarning("could not list missed days", { error: e.message }), [])
          })
        )
        for (const d of missed) if (!all.has(d)) all.set(d, "catch-up")
        if (missed.length > 0) yield* Effect.logInfo("catching up missed days", { days: missed })
        const failed = yield* runDays(all)
        return { failed, retry: failed.size > 0 || listFailed }
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.as(
            Effect.logError("batch round crashed", Cause.pretty(cause)),
            { failed: new Map(days), retry: true }
          )
        )
      )

    let state = yield* round("start-up", yield* Clock.currentTimeMillis, new Map())
    let lastFire = 0
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const nextFire = Cron.next(cron, new Date(Math.max(now, lastFire + 1))).getTime()
      const retryAt = now + Duration.toMillis(RETRY_INTERVAL)
      const retrying = state.retry && retryAt < nextFire
      const until = retrying ? retryAt : nextFire
      yield* SubscriptionRef.set(phase, {
        _tag: "Sleeping",
        until,
        next: retrying ? "retry" : "schedule",
        failing: state.failed.size
      })
      yield* Effect.sleep(Duration.millis(Math.max(0, until - now)))
      if (retrying) {
        yield* Effect.logInfo("retrying failed batch runs", { days: [...state.failed.keys()] })
        state = yield* round("retry", until, state.failed)
      } else {
        lastFire = nextFire
        const days = new Map(scheduledDays(nextFire, tz).map((d) => [d, "schedule" as Trigger]))
        state = yield* round("schedule", nextFire, days)
      }
    }
  })

/**
 * The scheduler, forked for the life of the layer when DAILY_BATCH_ENABLED; its phase is
 * observable (readiness shows the next firing; tests step the `TestClock` with it).
 */
export class BatchScheduler extends Effect.Service<BatchScheduler>()("mai-usage/BatchScheduler", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    if (!config.dailyBatchEnabled) {
      return { phase: yield* SubscriptionRef.make<SchedulerPhase>({ _tag: "Disabled" }) }
    }
    const cron = yield* dailyCron(config.dailyBatchTime, config.dailyBatchTimeZone)
    const phase = yield* SubscriptionRef.make<SchedulerPhase>({
      _tag: "Running",
      round: "start-up",
      at: yield* Clock.currentTimeMillis
    })
    yield* Effect.forkScoped(runSchedule(cron, phase))
    return { phase }
  })
}) {}
