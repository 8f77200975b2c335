/**
 * The calendar module (src/domain/WarsawDay.ts) on edge days, through every entry point that takes
 * a day from outside: the parse function, the `Day` schema, the CLI's `--date` (the batch's
 * `requestedDays`, reconcile's `requestedUtcDays`), the API's `from`/`to` parameters (real HTTP),
 * the app's `NbpRate.forUsageDay`
 * and the NBP service's `date` (real HTTP). One table; each entry point must accept exactly the
 * days `parseDay` accepts and refuse the others with the same one line.
 */
import { Context, Effect, Either, Exit, Layer, Logger, LogLevel, Schema, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { NbpServer } from "../../nbp/Server.js"
import { requestedDays } from "../../src/billing/DailyBatch.js"
import { requestedUtcDays } from "../../src/cli/ReconcileCommand.js"
import {
  addDays,
  Day,
  dayOf,
  daysBetween,
  daysFrom,
  dayWindow,
  hoursInDay,
  lastDay,
  monthRange,
  nextMonth,
  parseDay,
  warsawDay
} from "../../src/domain/WarsawDay.js"
import { NbpRate } from "../../src/rates/NbpRate.js"
import { asAdmin, startApp, type TestApp } from "../support/app.js"
import { type NbpStandIn, startNbpService, startNbpStandIn } from "../support/nbpStandIn.js"

type Verdict = "day" | "shape" | "no such day"

const cases: ReadonlyArray<readonly [string, Verdict]> = [
  ["0050-01-01", "day"],
  ["0001-01-01", "day"],
  ["0000-01-01", "no such day"],
  ["9999-12-31", "day"],
  ["2024-02-29", "day"],
  ["2025-02-29", "no such day"],
  ["2000-02-29", "day"],
  ["1900-02-29", "no such day"],
  ["0004-02-29", "day"],
  ["0100-02-29", "no such day"],
  ["2025-02-30", "no such day"],
  ["2025-13-01", "no such day"],
  ["2025-00-10", "no such day"],
  ["2025-12-32", "no such day"],
  ["2025-03-30", "day"],
  ["2025-10-26", "day"],
  ["2024-12-31", "day"],
  ["2025-01-01", "day"],
  ["2001-12-31", "day"],
  ["2025-2-3", "shape"],
  ["2025-02-3", "shape"],
  [" 2025-01-01", "shape"],
  ["2025-01-01 ", "shape"],
  ["20250101", "shape"],
  ["2025-01-01T00:00", "shape"],
  ["+02025-01-01", "shape"],
  ["٢٠٢٥-٠١-٠١", "shape"],
  ["", "shape"]
]

/** The one line an entry point must give for a refused input. */
const reason = (input: string, verdict: Verdict): string | undefined =>
  verdict === "day"
    ? undefined
    : `invalid date ${JSON.stringify(input)}: ${verdict === "shape" ? "expected YYYY-MM-DD" : "no such calendar day"}`

/** Each entry point's answer: undefined when it takes the input as a day, else its one line. */
type EntryPoint = (input: string) => Promise<string | undefined>

let app: TestApp
let nbp: NbpStandIn
let service: NbpServer
const scope = Effect.runSync(Scope.make())
let rates: NbpRate

beforeAll(async () => {
  nbp = await startNbpStandIn()
  app = await startApp({ NBP_API_URL: nbp.url })
  service = await Effect.runPromise(
    Scope.extend(startNbpService(nbp), scope).pipe(Logger.withMinimumLogLevel(LogLevel.None))
  )
  rates = Context.get(
    await Effect.runPromise(
      Layer.buildWithScope(NbpRate.Default({ serviceUrl: undefined, apiUrl: nbp.url }), scope).pipe(
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    ),
    NbpRate
  )
}, 30_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
  await app?.close()
  await nbp?.close()
})

const entryPoints: ReadonlyArray<readonly [string, EntryPoint]> = [
  ["parseDay", async (input) => Either.match(parseDay(input), { onLeft: (e) => e.message, onRight: () => undefined })],
  [
    "the Day schema",
    async (input) =>
      Either.match(Schema.decodeUnknownEither(Day)(input), {
        onLeft: (e) => e.message,
        onRight: () => undefined
      })
  ],
  [
    "the CLI's --date",
    async (input) => {
      // A day not over yet is refused too, for another reason: only the parse is looked at here.
      const days = requestedDays({ date: input }, "2026-01-01")
      if (Either.isRight(days)) return undefined
      return days.left.startsWith("--date: ") ? days.left.slice("--date: ".length) : undefined
    }
  ],
  [
    "reconcile's --date",
    async (input) => {
      // Only OpenRouter's last 30 UTC days can be reconciled: a real day outside them is refused for that.
      const days = requestedUtcDays({ date: input }, Date.parse("2026-01-01T12:00:00Z"))
      if (Either.isRight(days)) return undefined
      return days.left.startsWith("--date: invalid date") ? days.left.slice("--date: ".length) : undefined
    }
  ],
  [
    "the API's from/to",
    async (input) => {
      const q = encodeURIComponent(input)
      const res = await fetch(`${app.url}/api/v1/usage/daily?from=${q}&to=${q}`, asAdmin)
      if (res.status === 200) return undefined
      expect(res.status, input).toBe(400)
      return ((await res.json()) as { error: string }).error
    }
  ],
  [
    "NbpRate.forUsageDay",
    async (input) => {
      const exit = await Effect.runPromiseExit(
        rates.forUsageDay(input, "previous-business-day").pipe(Logger.withMinimumLogLevel(LogLevel.None))
      )
      if (Exit.isSuccess(exit)) return undefined
      const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      return failure?.reason === "bad-request" ? failure.message : undefined
    }
  ],
  [
    "the NBP service's date",
    async (input) => {
      const res = await fetch(`${service.url}/api/usd-pln-rate?date=${encodeURIComponent(input)}&rule=previous-business-day`)
      const body = (await res.json()) as { error?: string }
      return res.status === 400 ? body.error : undefined
    }
  ]
]

describe("one day rule through every entry point", () => {
  for (const [name, entry] of entryPoints) {
    it(`${name}: accepts exactly the real days 0001-01-01…9999-12-31, refuses the rest with parseDay's line`, async () => {
      for (const [input, verdict] of cases) {
        const answer = await entry(input)
        const expected = reason(input, verdict)
        if (expected === undefined) expect(answer, `${name} ${JSON.stringify(input)}`).toBeUndefined()
        else expect(answer, `${name} ${JSON.stringify(input)}`).toContain(expected)
      }
    }, 30_000)
  }

  it("the CLI runs a finished day as asked, whatever its year", () => {
    for (const [input, verdict] of cases) {
      if (verdict === "day" && input < "2026-01-01") expect(requestedDays({ date: input }, "2026-01-01")).toEqual(Either.right([input]))
    }
  })
})

describe("calendar arithmetic on edge days", () => {
  it.each([
    ["2024-12-31", 1, "2025-01-01"],
    ["2025-01-01", -1, "2024-12-31"],
    ["2025-01-01", -365, "2024-01-02"],
    ["2024-02-28", 1, "2024-02-29"],
    ["2025-02-28", 1, "2025-03-01"],
    ["2025-03-01", -1, "2025-02-28"],
    ["2025-03-30", 1, "2025-03-31"],
    ["2025-10-26", -1, "2025-10-25"],
    ["0050-01-01", -1, "0049-12-31"],
    ["0001-01-02", -1, "0001-01-01"],
    ["9999-12-30", 1, "9999-12-31"],
    ["2025-06-15", 0, "2025-06-15"]
  ] as const)("addDays(%s, %i) = %s, and daysBetween undoes it", (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected)
    expect(daysBetween(day, expected)).toBe(n)
  })

  it("daysFrom spans year boundaries and DST days, empty when reversed", () => {
    expect(daysFrom("2024-12-30", "2025-01-02")).toEqual(["2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02"])
    expect(daysFrom("2025-03-29", "2025-03-31")).toEqual(["2025-03-29", "2025-03-30", "2025-03-31"])
    expect(daysFrom("2025-01-02", "2025-01-01")).toEqual([])
    expect(daysFrom("0049-12-31", "0050-01-01")).toEqual(["0049-12-31", "0050-01-01"])
  })

  it.each([
    ["2025-03-30", 23],
    ["2025-10-26", 25],
    ["2025-03-29", 24],
    ["2025-10-27", 24],
    ["2024-12-31", 24],
    ["2025-01-01", 24]
  ] as const)("%s lasts %i hours in Warsaw", (day, hours) => {
    expect(hoursInDay(day, "Europe/Warsaw")).toBe(hours)
  })

  it("the Warsaw day of an instant: the batch's window and NBP's day agree at every edge", () => {
    const edges = [
      "2024-12-31T22:59:59.999Z",
      "2024-12-31T23:00:00.000Z",
      "2025-03-29T23:00:00.000Z",
      "2025-03-30T21:59:59.999Z",
      "2025-03-30T22:00:00.000Z",
      "2025-10-25T22:00:00.000Z",
      "2025-10-26T22:59:59.999Z",
      "2025-10-26T23:00:00.000Z"
    ]
    for (const instant of edges) {
      const ms = Date.parse(instant)
      const day = dayOf(ms, "Europe/Warsaw")
      expect(warsawDay(ms), instant).toBe(day)
      // the old Intl way of reading a Warsaw day, which this replaced
      expect(new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Warsaw" }).format(new Date(ms)), instant).toBe(day)
      const w = dayWindow(day, "Europe/Warsaw")
      expect(ms >= w.start.epochMillis && ms < w.end.epochMillis, instant).toBe(true)
    }
  })

  it.each([
    ["2024-02", "2024-02-29", "2024-03"],
    ["2025-02", "2025-02-28", "2025-03"],
    ["2000-02", "2000-02-29", "2000-03"],
    ["1900-02", "1900-02-28", "1900-03"],
    ["0004-02", "0004-02-29", "0004-03"],
    ["0100-02", "0100-02-28", "0100-03"],
    ["2025-12", "2025-12-31", "2026-01"],
    ["9999-12", "9999-12-31", undefined]
  ] as const)("month %s ends on %s; the next is %s", (month, last, next) => {
    expect(lastDay(month)).toBe(last)
    expect(monthRange(month)).toEqual({ from: `${month}-01`, to: last })
    expect(parseDay(last)).toEqual(Either.right(last))
    if (next !== undefined) expect(nextMonth(month)).toBe(next)
  })
})
