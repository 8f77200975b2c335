/**
 * Usage days: day D is [D 00:00, D+1 00:00) on the wall clock of the batch's time zone
 * (Europe/Warsaw by default), so it lasts 23 or 25 hours on DST days. Days are `YYYY-MM-DD`
 * strings; calendar arithmetic on them is done in UTC, where every day has 24 hours.
 */
import { DateTime, Either, Schema } from "effect"

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
  date.setUTCFullYear(year)
  if (year < 1 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return Either.left(new InvalidDay({ input, message: `invalid date ${JSON.stringify(input)}: no such calendar day` }))
  }
  return Either.right(input)
}

export const isDay = (input: string): boolean => Either.isRight(parseDay(input))

/** The strict day as a schema (CLI options, URL parameters). */
export const Day = Schema.String.pipe(
  Schema.filter((s) => Either.match(parseDay(s), { onLeft: (e) => e.message, onRight: () => true }), {
    identifier: "Day",
    description: "a calendar day, YYYY-MM-DD"
  })
)

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
