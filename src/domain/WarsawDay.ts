/**
 * The calendar module: every day, month and day-of-an-instant question of the app is answered here.
 *
 * Days are `YYYY-MM-DD` strings of the proleptic Gregorian calendar, `0001-01-01` to `9999-12-31`.
 * One rule decides what a day is, for every entry point (the CLI's `--date/--from/--to`, the API's
 * `Day` parameters, `USAGE_MARKUP_EFFECTIVE_FROM`, the NBP service's `date`, NBP's own tables):
 * exactly that shape and a real calendar day. `2025-02-30`, `2025-2-3`, ` 2025-01-01` and
 * `0000-01-01` are refused; `0050-01-01` is a day (the markup history starts at `0001-01-01`).
 * A day that is real but has no data (before NBP's first table, 2002-01-02; not over yet) is
 * answered by whoever asks about it, not refused as malformed.
 *
 * Calendar arithmetic on days is done in UTC, where every day has 24 hours. Usage days: day D is
 * [D 00:00, D+1 00:00) on the wall clock of the batch's time zone (Europe/Warsaw by default), so
 * it lasts 23 or 25 hours on DST days.
 */
import { Clock, DateTime, Effect, Either, Schema } from "effect"

/** A refused day text, with the one line an operator reads. */
export class InvalidDay extends Schema.TaggedError<InvalidDay>()("InvalidDay", {
  input: Schema.String,
  message: Schema.String
}) {}

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/
const DAY_MS = 86_400_000

/** Strict `YYYY-MM-DD` of a real calendar day: `2025-02-30` and `2025-2-3` are refused. */
export const parseDay = (input: string): Either.Either<string, InvalidDay> => {
  const m = dayPattern.exec(input)
  if (m === null) {
    return Either.left(new InvalidDay({ input, message: `invalid date ${JSON.stringify(input)}: expected YYYY-MM-DD` }))
  }
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  // Date.UTC reads years 0–99 as 1900–1999; the year is set again so 0050 stays 0050.
  date.setUTCFullYear(year)
  if (year < 1 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return Either.left(new InvalidDay({ input, message: `invalid date ${JSON.stringify(input)}: no such calendar day` }))
  }
  return Either.right(input)
}

export const isDay = (input: string): boolean => Either.isRight(parseDay(input))

/** The day as a schema (CLI options, URL parameters, OpenAPI), refusing with `parseDay`'s line. */
export const Day = Schema.String.pipe(
  Schema.filter((s) => Either.match(parseDay(s), { onLeft: (e) => e.message, onRight: () => true }))
).annotations({
  identifier: "Day",
  description: "a calendar day, YYYY-MM-DD",
  jsonSchema: { type: "string", format: "date", pattern: "^\\d{4}-\\d{2}-\\d{2}$" }
})

/** `day` plus `n` calendar days (n may be negative). */
export const addDays = (day: string, n: number): string => {
  const d = new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS)
  return d.toISOString().slice(0, 10)
}

/** end − start in calendar days. */
export const daysBetween = (start: string, end: string): number =>
  Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY_MS)

/** Every day from `from` to `to`, both included, oldest first (empty when from > to). */
export const daysFrom = (from: string, to: string): Array<string> => {
  const out: Array<string> = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
}

// Months: `YYYY-MM`, 0001-01 to 9999-12.

/** `2025-11-14` → `2025-11` */
export const monthOf = (day: string): string => day.slice(0, 7)

export const isMonth = (s: string): boolean => /^\d{4}-(0[1-9]|1[0-2])$/.test(s) && s >= "0001"

/** The month as a schema (URL paths and parameters). */
export const Month = Schema.String.pipe(
  Schema.filter((s) => isMonth(s) ? true : `invalid month ${JSON.stringify(s)}: expected YYYY-MM`)
).annotations({
  identifier: "Month",
  description: "a calendar month, YYYY-MM",
  jsonSchema: { type: "string", pattern: "^\\d{4}-(0[1-9]|1[0-2])$" }
})

export const firstDay = (month: string): string => `${month}-01`

export const lastDay = (month: string): string => {
  const [y, m] = month.split("-").map(Number)
  const last = new Date(Date.UTC(y, m, 0))
  last.setUTCFullYear(y, m, 0)
  return `${month}-${String(last.getUTCDate()).padStart(2, "0")}`
}

/** `2025-02` → `{ from: "2025-02-01", to: "2025-02-28" }` */
export const monthRange = (month: string): { readonly from: string; readonly to: string } => ({
  from: firstDay(month),
  to: lastDay(month)
})

export const nextMonth = (month: string): string => monthOf(addDays(lastDay(month), 1))

// Days in a time zone.

/** The zone NBP publishes in, and the batch's default. */
export const WARSAW = "Europe/Warsaw"

const zoneCache = new Map<string, DateTime.TimeZone.Named>()
const zone = (timeZone: string): DateTime.TimeZone.Named => {
  let z = zoneCache.get(timeZone)
  if (z === undefined) {
    z = DateTime.zoneUnsafeMakeNamed(timeZone)
    zoneCache.set(timeZone, z)
  }
  return z
}

/**
 * The first instant of `day` in the zone. Midnight exists in Warsaw on every day; in a zone where
 * it falls into a DST gap, the day starts when the clocks jump (the "compatible" resolution).
 */
export const startOfDay = (day: string, timeZone: string): DateTime.Utc => {
  const [year, month, d] = day.split("-").map(Number)
  return DateTime.toUtc(
    DateTime.unsafeMakeZoned({ year, month, day: d, hours: 0, minutes: 0, seconds: 0, millis: 0 }, {
      timeZone: zone(timeZone),
      adjustForTimeZone: true
    })
  )
}

export interface DayWindow {
  readonly day: string
  /** Inclusive. */
  readonly start: DateTime.Utc
  /** Exclusive: the start of the next day. */
  readonly end: DateTime.Utc
}

/** [D 00:00, D+1 00:00) in the zone, as UTC instants. */
export const dayWindow = (day: string, timeZone: string): DayWindow => ({
  day,
  start: startOfDay(day, timeZone),
  end: startOfDay(addDays(day, 1), timeZone)
})

/** Length of the day in hours: 24, or 23 / 25 on DST change days. */
export const hoursInDay = (day: string, timeZone: string): number => {
  const w = dayWindow(day, timeZone)
  return (DateTime.toEpochMillis(w.end) - DateTime.toEpochMillis(w.start)) / 3_600_000
}

/** The day an instant belongs to, on the zone's wall clock. */
export const dayOf = (instant: DateTime.DateTime | number, timeZone: string): string => {
  const utc = typeof instant === "number" ? DateTime.unsafeMake(instant) : instant
  return DateTime.formatIsoDate(DateTime.setZone(utc, zone(timeZone)))
}

/** The day before the one `now` falls on, in the zone. */
export const yesterday = (now: DateTime.DateTime | number, timeZone: string): string => addDays(dayOf(now, timeZone), -1)

/** The Warsaw day of an instant (epoch millis): the day NBP's tables are dated by. */
export const warsawDay = (epochMillis: number): string => dayOf(epochMillis, WARSAW)

/** Today in Warsaw, by the Effect clock. */
export const warsawToday: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, warsawDay)
