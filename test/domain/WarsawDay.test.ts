import { DateTime, Either } from "effect"
import { describe, expect, it } from "vitest"
import { addDays, dayOf, daysFrom, dayWindow, hoursInDay, parseDay, yesterday } from "../../src/domain/WarsawDay.js"

const WAW = "Europe/Warsaw"
const iso = (d: DateTime.Utc) => DateTime.formatIso(d)

describe("the usage day window", () => {
  it("is [00:00, 24:00) Warsaw time on an ordinary winter and summer day", () => {
    const winter = dayWindow("2025-01-15", WAW)
    expect([iso(winter.start), iso(winter.end)]).toEqual(["2025-01-14T23:00:00.000Z", "2025-01-15T23:00:00.000Z"])
    const summer = dayWindow("2025-07-15", WAW)
    expect([iso(summer.start), iso(summer.end)]).toEqual(["2025-07-14T22:00:00.000Z", "2025-07-15T22:00:00.000Z"])
  })

  it("lasts 23 hours on 2025-03-30 (clocks go forward) and 25 hours on 2025-10-26 (back)", () => {
    const march = dayWindow("2025-03-30", WAW)
    expect([iso(march.start), iso(march.end)]).toEqual(["2025-03-29T23:00:00.000Z", "2025-03-30T22:00:00.000Z"])
    expect(hoursInDay("2025-03-30", WAW)).toBe(23)
    const october = dayWindow("2025-10-26", WAW)
    expect([iso(october.start), iso(october.end)]).toEqual(["2025-10-25T22:00:00.000Z", "2025-10-26T23:00:00.000Z"])
    expect(hoursInDay("2025-10-26", WAW)).toBe(25)
    expect(hoursInDay("2025-10-27", WAW)).toBe(24)
  })

  it("puts 23:59:59.999 and 00:00:00.000 on either side of midnight, DST days included", () => {
    const cases: Array<[string, string]> = [
      ["2025-03-29T22:59:59.999Z", "2025-03-29"],
      ["2025-03-29T23:00:00.000Z", "2025-03-30"],
      ["2025-03-30T21:59:59.999Z", "2025-03-30"],
      ["2025-03-30T22:00:00.000Z", "2025-03-31"],
      ["2025-10-25T21:59:59.999Z", "2025-10-25"],
      ["2025-10-25T22:00:00.000Z", "2025-10-26"],
      ["2025-10-26T22:59:59.999Z", "2025-10-26"],
      ["2025-10-26T23:00:00.000Z", "2025-10-27"]
    ]
    for (const [instant, day] of cases) {
      expect(dayOf(Date.parse(instant), WAW), instant).toBe(day)
      const w = dayWindow(day, WAW)
      const t = Date.parse(instant)
      expect(t >= DateTime.toEpochMillis(w.start) && t < DateTime.toEpochMillis(w.end), instant).toBe(true)
    }
  })

  it("knows yesterday in Warsaw, which is not yesterday in UTC just after midnight", () => {
    // 2025-11-02 00:30 Warsaw = 2025-11-01 23:30 UTC
    expect(yesterday(Date.parse("2025-11-01T23:30:00Z"), WAW)).toBe("2025-11-01")
    expect(yesterday(Date.parse("2025-11-01T22:30:00Z"), WAW)).toBe("2025-10-31")
  })

  it("does calendar arithmetic across months, leap days and DST", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29")
    expect(addDays("2025-03-01", -1)).toBe("2025-02-28")
    expect(addDays("2025-10-26", 1)).toBe("2025-10-27")
    expect(daysFrom("2025-03-29", "2025-04-01")).toEqual(["2025-03-29", "2025-03-30", "2025-03-31", "2025-04-01"])
    expect(daysFrom("2025-04-02", "2025-04-01")).toEqual([])
  })
})

describe("parseDay", () => {
  it("accepts real calendar days in YYYY-MM-DD", () => {
    expect(parseDay("2024-02-29")).toEqual(Either.right("2024-02-29"))
    expect(parseDay("2025-12-31")).toEqual(Either.right("2025-12-31"))
  })

  it("refuses impossible days and loose spellings with a one-line reason", () => {
    for (const bad of ["2025-02-30", "2025-02-29", "2025-13-01", "2025-00-10", "2025-2-3", "2025-02-3", "20250203", " 2025-02-03", "2025-02-03T00:00", ""]) {
      const r = parseDay(bad)
      expect(Either.isLeft(r), bad).toBe(true)
      if (Either.isLeft(r)) {
        expect(r.left._tag).toBe("InvalidDay")
        expect(r.left.message).toContain(JSON.stringify(bad))
        expect(r.left.message).not.toContain("\n")
      }
    }
    const e = parseDay("2025-02-30")
    expect(Either.isLeft(e) && e.left.message).toBe('invalid date "2025-02-30": no such calendar day')
  })
})
