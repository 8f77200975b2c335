import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Either, Option } from "effect"
import { candidateRange, type ExchangeRateRule, makeTable, type NbpTable, selectTable } from "../../src/domain/RateRule.js"
import { addDays, parseDay } from "../../src/domain/WarsawDay.js"
import { expectedTable, fixtureTables } from "../support/nbpStandIn.js"

const tables: ReadonlyArray<NbpTable> = fixtureTables().map((row) =>
  Either.getOrThrow(makeTable(row.no, row.effectiveDate, row.mid))
)
const published = new Set(tables.map((t) => t.effectiveDate))

const pick = (day: string, rule: ExchangeRateRule) =>
  Option.getOrThrow(selectTable(tables, day, rule))

/** Gregorian Easter Sunday (anonymous algorithm), to list the movable holidays independently of NBP. */
const easterSunday = (year: number): string => {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`
}

/** Polish public holidays (ustawa o dniach wolnych od pracy), 24 December from 2025 on. */
const polishHolidays = (year: number): ReadonlyArray<string> => {
  const easter = easterSunday(year)
  const fixed = ["01-01", "01-06", "05-01", "05-03", "08-15", "11-01", "11-11", "12-25", "12-26"]
    .concat(year >= 2025 ? ["12-24"] : [])
    .map((md) => `${year}-${md}`)
  return [...fixed, easter, addDays(easter, 1), addDays(easter, 49), addDays(easter, 60)].sort()
}

const isWeekend = (day: string) => [0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay())

describe("parseDay (NBP's dates)", () => {
  it("accepts real calendar days", () => {
    expect(parseDay("2025-12-01")).toEqual(Either.right("2025-12-01"))
    expect(parseDay("2024-02-29")).toEqual(Either.right("2024-02-29"))
  })

  it.each(["2025-02-30", "2025-2-3", "2023-02-29", "2025-13-01", "2025-00-10", "2025-12-32", "20251201", "", "2025-12-01T00:00", " 2025-12-01"])(
    "refuses %j",
    (input) => {
      expect(Either.isLeft(parseDay(input))).toBe(true)
    }
  )
})

describe("makeTable", () => {
  it("keeps NBP's decimal text exactly, padding dropped trailing zeros to four places", () => {
    const table = Either.getOrThrow(makeTable("222/A/NBP/2025", "2025-11-17", "3.64"))
    expect(table.midText).toBe("3.6400")
    expect(BigDecimal.equals(table.mid, BigDecimal.unsafeFromString("3.64"))).toBe(true)
    expect(Either.getOrThrow(makeTable("x", "2025-11-17", "3.63831")).midText).toBe("3.63831")
  })

  it("refuses non-decimal and non-positive rates", () => {
    expect(Either.isLeft(makeTable("x", "2025-11-17", "1e3"))).toBe(true)
    expect(Either.isLeft(makeTable("x", "2025-11-17", "0.0000"))).toBe(true)
    expect(Either.isLeft(makeTable("x", "2025-11-17", "-3.6"))).toBe(true)
  })
})

describe("selectTable on NBP's real tables", () => {
  it("known tables: weekends, Christmas, New Year, Easter, May and November long weekends", () => {
    const cases: ReadonlyArray<[string, ExchangeRateRule, string]> = [
      // Monday → the Friday before; same-day on Monday → Monday's own table
      ["2025-12-01", "previous-business-day", "231/A/NBP/2025"],
      ["2025-12-01", "same-day", "232/A/NBP/2025"],
      ["2025-11-29", "same-day", "231/A/NBP/2025"],
      ["2025-11-30", "previous-business-day", "231/A/NBP/2025"],
      // 24 December: a holiday from 2025 (no table), still a business day in 2024
      ["2025-12-24", "same-day", "248/A/NBP/2025"],
      ["2025-12-25", "previous-business-day", "248/A/NBP/2025"],
      ["2025-12-29", "previous-business-day", "248/A/NBP/2025"],
      ["2024-12-25", "previous-business-day", "249/A/NBP/2024"],
      ["2024-12-24", "same-day", "249/A/NBP/2024"],
      ["2024-12-27", "previous-business-day", "249/A/NBP/2024"],
      // 1–2 January → the previous year's last table
      ["2025-01-01", "previous-business-day", "252/A/NBP/2024"],
      ["2025-01-02", "previous-business-day", "252/A/NBP/2024"],
      ["2025-01-01", "same-day", "252/A/NBP/2024"],
      ["2025-01-02", "same-day", "001/A/NBP/2025"],
      ["2026-01-01", "previous-business-day", "251/A/NBP/2025"],
      ["2026-01-02", "previous-business-day", "251/A/NBP/2025"],
      // Epiphany (Monday 2025-01-06)
      ["2025-01-07", "previous-business-day", "002/A/NBP/2025"],
      // Good Friday is published; Easter Monday is not
      ["2025-04-18", "same-day", "076/A/NBP/2025"],
      ["2025-04-19", "previous-business-day", "076/A/NBP/2025"],
      ["2025-04-22", "previous-business-day", "076/A/NBP/2025"],
      ["2025-04-21", "same-day", "076/A/NBP/2025"],
      // 1–3 May 2025 (Thu holiday, Fri published, Sat holiday)
      ["2025-05-02", "previous-business-day", "083/A/NBP/2025"],
      ["2025-05-05", "previous-business-day", "084/A/NBP/2025"],
      // 1–3 May 2024 (Wed holiday, Thu published, Fri holiday)
      ["2024-05-02", "previous-business-day", "085/A/NBP/2024"],
      ["2024-05-06", "previous-business-day", "086/A/NBP/2024"],
      ["2024-05-03", "same-day", "086/A/NBP/2024"],
      // 11 November: Monday in 2024, Tuesday in 2025
      ["2024-11-12", "previous-business-day", "218/A/NBP/2024"],
      ["2025-11-11", "same-day", "218/A/NBP/2025"],
      ["2025-11-12", "previous-business-day", "218/A/NBP/2025"]
    ]
    for (const [day, rule, table] of cases) {
      expect(`${day} ${rule} → ${pick(day, rule).no}`).toBe(`${day} ${rule} → ${table}`)
    }
    expect(pick("2025-12-02", "previous-business-day").midText).toBe("3.6383")
    expect(pick("2025-11-18", "previous-business-day").midText).toBe("3.6400")
  })

  it("no holiday of 2016–2025 has a table, and the rule skips every one of them", () => {
    let holidays = 0
    for (let year = 2016; year <= 2025; year++) {
      for (const holiday of polishHolidays(year)) {
        holidays++
        expect(published.has(holiday), `NBP published on holiday ${holiday}`).toBe(false)
        if (holiday < tables[0].effectiveDate) continue
        const before = pick(holiday, "same-day")
        expect(before.effectiveDate < holiday).toBe(true)
        expect(before.no).toBe(expectedTable(holiday, "same-day"))
        // the day after a holiday is converted at a table from before the holiday
        expect(pick(addDays(holiday, 1), "previous-business-day").no).toBe(before.no)
      }
    }
    expect(holidays).toBe(131)
  })

  it("every weekday that is not a holiday has a table (the fixture is NBP's calendar)", () => {
    const holidays = new Set(Array.from({ length: 10 }, (_, i) => polishHolidays(2016 + i)).flat())
    for (let day = "2016-01-04"; day <= "2025-12-31"; day = addDays(day, 1)) {
      const expected = !isWeekend(day) && !holidays.has(day)
      expect(published.has(day), day).toBe(expected)
    }
  })

  it("every day 2016-01-05 … 2026-01-02 matches a plain scan of the CSV, under both rules", () => {
    for (let day = "2016-01-05"; day <= "2026-01-02"; day = addDays(day, 1)) {
      for (const rule of ["previous-business-day", "same-day"] as const) {
        expect(pick(day, rule).no).toBe(expectedTable(day, rule))
        // the candidate range fetched from NBP always holds the answer
        const range = candidateRange(day, rule)
        const chosen = pick(day, rule).effectiveDate
        expect(chosen >= range.start && chosen <= range.end).toBe(true)
      }
    }
  })

  it("nothing before the first table", () => {
    expect(Option.isNone(selectTable(tables, "2016-01-04", "previous-business-day"))).toBe(true)
    expect(Option.isNone(selectTable([], "2025-12-01", "same-day"))).toBe(true)
  })
})
