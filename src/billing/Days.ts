/**
 * Which days a run covers: the days a CLI or API request asks for, checked before anything runs.
 * (The schedule's days are in `Scheduler.ts`, the missed days in `DailyBatch.missedDays`.)
 */
import { Either } from "effect"
import { addDays, daysBetween, daysFrom, parseDay } from "../domain/WarsawDay.js"

/** How far back missed days are caught up. */
export const CATCH_UP_DAYS = 31

/** The most days one CLI or API request may reprocess. */
export const MAX_RANGE_DAYS = 366

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
