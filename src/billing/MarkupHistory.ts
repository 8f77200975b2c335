/**
 * Which markup prices which usage day. At start-up the configured USAGE_MARKUP_MULTIPLIER is
 * compared with the newest markup_history entry; when it differs, a new entry is recorded, effective
 * from USAGE_MARKUP_EFFECTIVE_FROM or else today (Warsaw). An effective day in or before a closed
 * month is refused: it would re-price an invoiced month. The very first entry (an empty history) is
 * effective from the beginning of time, with the markup of the newest billed row if there is one (the
 * markup those rows were priced with), so that installing this changes no earlier day.
 */
import { BigDecimal, Clock, Effect } from "effect"
import { AppConfig, ConfigInvalid } from "../platform/Config.js"
import { formatDecimal } from "../domain/Money.js"
import { dayOf, lastDay } from "../domain/WarsawDay.js"
import { type AccountingDbError, AccountingRepo } from "./AccountingRepo.js"
import { markupOn, type MarkupEntry } from "./Periods.js"

/** Effective for every day before the first recorded change. */
export const BEGINNING = "0001-01-01"

export interface MarkupHistoryShape {
  /** The markup in force on `day`, as decimal text. */
  readonly markupFor: (day: string) => Effect.Effect<string, AccountingDbError>
  readonly entries: Effect.Effect<ReadonlyArray<MarkupEntry>, AccountingDbError>
}

const sameMarkup = (a: string, b: string) =>
  BigDecimal.equals(BigDecimal.unsafeFromString(a), BigDecimal.unsafeFromString(b))

const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* AccountingRepo
  const configured = formatDecimal(config.markup)
  const now = yield* Clock.currentTimeMillis
  const at = new Date(now).toISOString()
  const asConfigError = (e: AccountingDbError) => new ConfigInvalid({ message: `USAGE_MARKUP_MULTIPLIER: ${e.message}` })

  let entries = yield* Effect.mapError(repo.markupEntries, asConfigError)
  if (entries.length === 0) {
    const before = yield* Effect.mapError(repo.newestRowMarkup, asConfigError)
    yield* Effect.mapError(repo.recordMarkup(BEGINNING, before ?? configured, at), asConfigError)
    entries = yield* Effect.mapError(repo.markupEntries, asConfigError)
  }
  const newest = entries[entries.length - 1]
  if (!sameMarkup(newest.multiplier, configured)) {
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
  }

  const markupFor: MarkupHistoryShape["markupFor"] = (day) =>
    Effect.map(repo.markupEntries, (all) => markupOn(all, day)?.multiplier ?? configured)

  const history: MarkupHistoryShape = { markupFor, entries: repo.markupEntries }
  return history
})

/** Records a changed markup at construction (start-up of the server or of a CLI run). */
export class MarkupHistory extends Effect.Service<MarkupHistory>()("mai-usage/MarkupHistory", {
  effect: make,
  dependencies: [AccountingRepo.Default]
}) {}
