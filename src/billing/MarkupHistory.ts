/**
 * Which markup prices which usage day. Reading never writes: `markupFor(day)` is the entry in force
 * on that day, or the configured USAGE_MARKUP_MULTIPLIER while the history is empty.
 *
 * Recording is `recordConfigured`, which only `serve` runs at start-up (never a CLI run: a one-off
 * command with another environment must not re-price days for the server). The configured markup
 * is compared with the newest entry; when it differs, a new entry is recorded, effective from
 * USAGE_MARKUP_EFFECTIVE_FROM or else today (Warsaw). An effective day in or before a closed month
 * is refused: it would re-price an invoiced month. The very first entry (an empty history) is
 * effective from the beginning of time, with the markup of the newest billed row if there is one
 * (the markup those rows were priced with), so that installing this changes no earlier day.
 */
import { BigDecimal, Clock, Effect, Layer } from "effect"
import { AppConfig, ConfigInvalid } from "../platform/Config.js"
import { formatDecimal } from "../domain/Money.js"
import { dayOf, lastDay } from "../domain/WarsawDay.js"
import type { SummaryDbError } from "../store/SummaryDb.js"
import { markupOn, type MarkupEntry } from "./Periods.js"
import { SummaryRepo } from "./SummaryRepo.js"

/** Effective for every day before the first recorded change. */
export const BEGINNING = "0001-01-01"

const sameMarkup = (a: string, b: string) =>
  BigDecimal.equals(BigDecimal.unsafeFromString(a), BigDecimal.unsafeFromString(b))

export class MarkupHistory extends Effect.Service<MarkupHistory>()("mai-usage/MarkupHistory", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const repo = yield* SummaryRepo
    const configured = formatDecimal(config.markup)

    /** The markup in force on `day`, as decimal text. */
    const markupFor = (day: string): Effect.Effect<string, SummaryDbError> =>
      Effect.map(repo.markupEntries, (all) => markupOn(all, day)?.multiplier ?? configured)

    const entries: Effect.Effect<ReadonlyArray<MarkupEntry>, SummaryDbError> = repo.markupEntries

    /** Records the configured markup when it differs from the newest entry (see above). */
    const recordConfigured = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const at = new Date(now).toISOString()
      const asConfigError = (e: SummaryDbError) => new ConfigInvalid({ message: `USAGE_MARKUP_MULTIPLIER: ${e.message}` })
      let all = yield* Effect.mapError(repo.markupEntries, asConfigError)
      if (all.length === 0) {
        const before = yield* Effect.mapError(repo.newestRowMarkup, asConfigError)
        yield* Effect.mapError(repo.recordMarkup(BEGINNING, before ?? configured, at), asConfigError)
        all = yield* Effect.mapError(repo.markupEntries, asConfigError)
      }
      const newest = all[all.length - 1]
      if (sameMarkup(newest.multiplier, configured)) return
      const from = config.markupEffectiveFrom ?? dayOf(now, config.dailyBatchTimeZone)
      const closed = yield* Effect.mapError(repo.closings, asConfigError)
      const latestClosed = closed[closed.length - 1]
      if (latestClosed !== undefined && from <= lastDay(latestClosed.month)) {
        return yield* Effect.fail(
          new ConfigInvalid({
            message: `USAGE_MARKUP_EFFECTIVE_FROM: ${from} is in or before the closed month ${latestClosed.month}; a new markup ` +
              `(${configured}) can take effect from ${lastDay(latestClosed.month)} + 1 day at the earliest`
          })
        )
      }
      yield* Effect.mapError(repo.recordMarkup(from, configured, at), asConfigError)
      yield* Effect.logInfo("markup changed", { from: newest.multiplier, to: configured, effectiveFrom: from })
    })

    /**
     * What `recordConfigured` would record, in words, or undefined when the configured markup is the
     * newest entry (a CLI says so instead of recording it).
     */
    const unrecorded = Effect.map(repo.markupEntries, (all) => {
      const newest = all[all.length - 1]
      if (newest === undefined || sameMarkup(newest.multiplier, configured)) return undefined
      return `USAGE_MARKUP_MULTIPLIER: ${configured} is not in the markup history yet (its newest entry is ${newest.multiplier} ` +
        `from ${newest.effectiveFrom}); days are priced by the history, and \`serve\` records the change at its next start`
    })

    return { markupFor, entries, recordConfigured, unrecorded } as const
  })
}) {}

/** For `serve`: records a changed markup at start-up (a bad effective day stops start-up, exit 2). */
export const RecordMarkupAtStart = Layer.effectDiscard(Effect.flatMap(MarkupHistory, (h) => h.recordConfigured))
