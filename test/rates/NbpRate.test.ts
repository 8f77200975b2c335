import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Context, Duration, Effect, Layer, TestClock } from "effect"
import type { ExchangeRateRule } from "../../src/domain/RateRule.js"
import { daysFrom } from "../../src/domain/WarsawDay.js"
import { NbpRate, type NbpRateError, type NbpRateOptions } from "../../src/rates/NbpRate.js"
import {
  expectedTable,
  fixtureTables,
  type NbpStandIn,
  scopedNbpStandIn,
  startNbpService
} from "../support/nbpStandIn.js"

/** Runs `use` with an NbpRate built on a fresh layer. */
const withNbpRate = <A, E, R>(
  options: NbpRateOptions,
  use: (rates: NbpRate) => Effect.Effect<A, E, R>
) => Effect.flatMap(NbpRate, use).pipe(Effect.provide(NbpRate.Default(options)))

/** Runs `use` with an NbpRate straight from NBP (no NBP_SERVICE_URL) over a fresh stand-in. */
const straightFromNbp = <A, E>(use: (rates: NbpRate, nbp: NbpStandIn) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const nbp = yield* scopedNbpStandIn()
    return yield* withNbpRate({ serviceUrl: undefined, apiUrl: nbp.url }, (rates) => use(rates, nbp))
  }).pipe(Effect.scoped)

const knownDays: ReadonlyArray<[string, ExchangeRateRule, string, string]> = [
  ["2025-12-02", "previous-business-day", "232/A/NBP/2025", "3.6383"],
  ["2025-12-24", "same-day", "248/A/NBP/2025", "3.5848"],
  ["2025-12-25", "previous-business-day", "248/A/NBP/2025", "3.5848"],
  ["2024-12-25", "previous-business-day", "249/A/NBP/2024", "4.1127"],
  ["2025-01-01", "previous-business-day", "252/A/NBP/2024", "4.1012"],
  ["2025-01-02", "previous-business-day", "252/A/NBP/2024", "4.1012"],
  ["2025-04-22", "previous-business-day", "076/A/NBP/2025", "3.7661"],
  ["2024-05-06", "previous-business-day", "086/A/NBP/2024", "4.0474"],
  ["2025-11-12", "previous-business-day", "218/A/NBP/2025", "3.6610"],
  ["2025-11-18", "previous-business-day", "222/A/NBP/2025", "3.6400"]
]

describe("NbpRate straight from NBP (no NBP_SERVICE_URL)", () => {
  it.live("picks NBP's real tables by the rule, with the table number and NBP's decimal text", () =>
    straightFromNbp((rates) =>
      Effect.gen(function*() {
        for (const [day, rule, table, rate] of knownDays) {
          const quote = yield* rates.forUsageDay(day, rule)
          expect({ day, rule, table: quote.table, rateText: quote.rateText }).toEqual({ day, rule, table, rateText: rate })
          expect(BigDecimal.equals(quote.rate, BigDecimal.unsafeFromString(rate))).toBe(true)
          expect(quote).toMatchObject({ requestedDate: day, rule, stale: false })
        }
        // Christmas–New Year and Easter–May, every day, both rules, against a plain scan of the CSV
        for (const day of [...daysFrom("2024-12-20", "2025-01-08"), ...daysFrom("2025-04-16", "2025-05-06")]) {
          for (const rule of ["previous-business-day", "same-day"] as const) {
            expect(`${day} ${rule} ${(yield* rates.forUsageDay(day, rule)).table}`).toBe(
              `${day} ${rule} ${expectedTable(day, rule)}`
            )
          }
        }
      })), { timeout: 30_000 })

  it.live("a past day is fetched once, then served from the cache even while NBP is down", () =>
    straightFromNbp((rates, nbp) =>
      Effect.gen(function*() {
        const first = yield* rates.forUsageDay("2025-06-10", "previous-business-day")
        expect(nbp.requests()).toBe(1)
        nbp.setDown(true)
        const again = yield* rates.forUsageDay("2025-06-10", "previous-business-day")
        expect(again).toEqual(first)
        expect(nbp.requests()).toBe(1)
        // a day never asked for: no invented rate, a typed failure
        const error: NbpRateError = yield* Effect.flip(rates.forUsageDay("2025-06-11", "previous-business-day"))
        expect(error.reason).toBe("unreachable")
        const latest = yield* Effect.flip(rates.latest)
        expect(latest.reason).toBe("unreachable")
        // failures are not cached: NBP back, the same day succeeds
        nbp.setDown(false)
        expect((yield* rates.forUsageDay("2025-06-11", "previous-business-day")).table).toBe("111/A/NBP/2025")
      })), { timeout: 20_000 })

  it.live("many concurrent requests for one uncached day make one call to NBP", () =>
    straightFromNbp((rates, nbp) =>
      Effect.gen(function*() {
        nbp.setDelay(150)
        const quotes = yield* Effect.all(
          Array.from({ length: 40 }, () => rates.forUsageDay("2023-03-15", "previous-business-day")),
          { concurrency: "unbounded" }
        )
        expect(new Set(quotes.map((q) => q.table))).toEqual(new Set([expectedTable("2023-03-15", "previous-business-day")]))
        expect(nbp.requests()).toBe(1)
      })), { timeout: 20_000 })

  it.live("bad input is refused before NBP is asked; before 2002 there is no table", () =>
    straightFromNbp((rates, nbp) =>
      Effect.gen(function*() {
        expect((yield* Effect.flip(rates.forUsageDay("2025-02-30", "same-day"))).reason).toBe("bad-request")
        expect((yield* Effect.flip(rates.forUsageDay("2025-2-3", "same-day"))).reason).toBe("bad-request")
        expect((yield* Effect.flip(rates.forUsageDay("2025-02-03", "next-day" as ExchangeRateRule))).reason).toBe(
          "bad-request"
        )
        expect((yield* Effect.flip(rates.forUsageDay("2001-06-01", "same-day"))).reason).toBe("not-found")
        expect((yield* Effect.flip(rates.forUsageDay("2002-01-02", "previous-business-day"))).reason).toBe("not-found")
        expect(nbp.requests()).toBe(0)
      })), { timeout: 20_000 })

  it.scoped("latest: kept for its TTL, stale when a refresh fails, fresh again when NBP is back (TestClock)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2025-12-01T12:30:00Z"))
      const nbp = yield* scopedNbpStandIn("2025-12-01")
      const rates = yield* Layer.build(NbpRate.Default({ serviceUrl: undefined, apiUrl: nbp.url, latestTtl: Duration.minutes(15) }))
        .pipe(Effect.map(Context.get(NbpRate)))

      expect(yield* rates.latest).toMatchObject({ table: "232/A/NBP/2025", rateText: "3.6383", stale: false })
      nbp.setToday("2025-12-02")
      yield* TestClock.adjust(Duration.minutes(14))
      expect((yield* rates.latest).table).toBe("232/A/NBP/2025")
      expect(nbp.requests()).toBe(1)

      yield* TestClock.adjust(Duration.minutes(2))
      expect(yield* rates.latest).toMatchObject({ table: "233/A/NBP/2025", stale: false })
      expect(nbp.requests()).toBe(2)

      nbp.setDown(true)
      yield* TestClock.adjust(Duration.minutes(16))
      expect(yield* rates.latest).toMatchObject({ table: "233/A/NBP/2025", rateText: "3.6512", stale: true })
      // while stale, upstream is retried at most every 30 s, not on every call
      const attempts = nbp.requests()
      yield* rates.latest
      expect(nbp.requests()).toBe(attempts)

      nbp.setDown(false)
      nbp.setToday("2025-12-03")
      yield* TestClock.adjust(Duration.seconds(31))
      expect(yield* rates.latest).toMatchObject({ table: "234/A/NBP/2025", stale: false })
    }), { timeout: 20_000 })
})

const startService = (nbp: NbpStandIn) => startNbpService(nbp)

describe("NbpRate through the NBP service (NBP_SERVICE_URL set)", () => {
  it.live("gives the same answers as NBP directly, and caches them", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const service = yield* startService(nbp)
      yield* withNbpRate({ serviceUrl: service.url, apiUrl: "http://127.0.0.1:9/unused/" }, (rates) =>
        Effect.gen(function*() {
          for (const [day, rule, table, rate] of knownDays) {
            const quote = yield* rates.forUsageDay(day, rule)
            expect([quote.table, quote.rateText, quote.requestedDate, quote.rule]).toEqual([table, rate, day, rule])
          }
          const latest = yield* rates.latest
          expect(latest.table).toBe(fixtureTables().at(-1)!.no)
          expect((yield* Effect.flip(rates.forUsageDay("2001-06-01", "same-day"))).reason).toBe("not-found")
        }))
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("an unreachable service with nothing cached is a typed failure, never a rate", () =>
    withNbpRate({ serviceUrl: "http://127.0.0.1:9", apiUrl: "http://127.0.0.1:9/unused/", timeout: "2 seconds" }, (rates) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(rates.forUsageDay("2025-06-10", "previous-business-day"))
        expect(error.reason).toBe("unreachable")
        expect((yield* Effect.flip(rates.latest)).reason).toBe("unreachable")
      })), { timeout: 20_000 })
})
