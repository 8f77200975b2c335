import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Effect, Either } from "effect"
import * as NbpApi from "../../src/rates/NbpApi.js"
import { messages, startNbpStandIn } from "../support/nbpStandIn.js"

const standIn = Effect.acquireRelease(
  Effect.promise(() => startNbpStandIn({ today: "2025-12-01" })),
  (nbp) => Effect.promise(() => nbp.close())
)

const withApi = Effect.gen(function*() {
  const nbp = yield* standIn
  const api = yield* NbpApi.make({ apiUrl: nbp.url, timeout: "5 seconds" }).pipe(
    Effect.provide(FetchHttpClient.layer)
  )
  return { nbp, api }
})

describe("parseRatesBody", () => {
  it("reads mid from the body text, not through a float", () => {
    const body =
      `{"table":"A","currency":"dolar amerykański","code":"USD","rates":[{"no":"222/A/NBP/2025","effectiveDate":"2025-11-17","mid":3.64},{"mid":4.10000000000000009,"no":"x/A/NBP/2025","effectiveDate":"2025-11-18"}]}`
    const tables = Either.getOrThrow(NbpApi.parseRatesBody(body))
    expect(tables.map((t) => t.midText)).toEqual(["3.6400", "4.10000000000000009"])
    expect(BigDecimal.equals(tables[1].mid, BigDecimal.unsafeFromString("4.10000000000000009"))).toBe(true)
    // a float would have rounded it to 4.1
    expect(BigDecimal.equals(tables[1].mid, BigDecimal.unsafeFromString("4.1"))).toBe(false)
  })

  it("refuses what is not NBP's shape", () => {
    expect(Either.isLeft(NbpApi.parseRatesBody("<html>maintenance</html>"))).toBe(true)
    expect(Either.isLeft(NbpApi.parseRatesBody(`{"rates":[{"no":"1","effectiveDate":"2025-13-01","mid":1}]}`))).toBe(true)
  })
})

describe("NbpApi against the NBP stand-in", () => {
  it.live("latest, one day, a range and last/n, in NBP's exact decimals", () =>
    Effect.gen(function*() {
      const { api } = yield* withApi
      const latest = yield* api.latest
      expect(latest).toMatchObject({ no: "232/A/NBP/2025", effectiveDate: "2025-12-01", midText: "3.6383" })
      const day = yield* api.day("2025-11-17")
      expect(day.midText).toBe("3.6400")
      // after the stand-in's "today": nothing published yet
      expect((yield* Effect.flip(api.range("2025-12-20", "2025-12-31"))).reason).toBe("not-found")
      const december = yield* api.range("2025-11-20", "2025-11-30")
      expect(december.map((t) => t.effectiveDate)).toEqual([
        "2025-11-20",
        "2025-11-21",
        "2025-11-24",
        "2025-11-25",
        "2025-11-26",
        "2025-11-27",
        "2025-11-28"
      ])
      const last = yield* api.last(3)
      expect(last.map((t) => t.no)).toEqual(["230/A/NBP/2025", "231/A/NBP/2025", "232/A/NBP/2025"])
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("NBP's plain-text errors become typed reasons", () =>
    Effect.gen(function*() {
      const { api, nbp } = yield* withApi
      const holiday = yield* Effect.flip(api.day("2024-12-25"))
      expect(holiday.reason).toBe("not-found")
      expect(holiday.message).toContain(messages.notFound)
      const tooLong = yield* Effect.flip(api.range("2024-01-01", "2025-01-02"))
      expect(tooLong).toMatchObject({ reason: "bad-request" })
      expect(tooLong.message).toContain("367")
      const reversed = yield* Effect.flip(api.range("2025-02-01", "2025-01-01"))
      expect(reversed.message).toContain("Invalid date range")
      const tooMany = yield* Effect.flip(api.last(256))
      expect(tooMany.reason).toBe("bad-request")

      nbp.setDown(true)
      const down = yield* Effect.flip(api.latest)
      expect(down.reason).toBe("unreachable")
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("an NBP that does not answer in time is unreachable", () =>
    Effect.gen(function*() {
      const nbp = yield* standIn
      nbp.setDelay(2_000)
      const api = yield* NbpApi.make({ apiUrl: nbp.url, timeout: "200 millis" }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      const error = yield* Effect.flip(api.latest)
      expect(error.reason).toBe("unreachable")
      expect(error.message).toContain("did not answer")
    }).pipe(Effect.scoped), { timeout: 20_000 })
})
