import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted, TestClock } from "effect"
import { nbpServiceConfig } from "../../nbp/Config.js"
import { addDays } from "../../src/domain/WarsawDay.js"
import { expectedTable, type NbpStandIn, scopedNbpStandIn, startNbpService } from "../support/nbpStandIn.js"

const start = startNbpService

interface Answer {
  readonly status: number
  readonly body: any
  readonly text: string
}

const call = (url: string, init?: RequestInit) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(url, init)
    const text = await response.text()
    let body: unknown = undefined
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON (metrics)
    }
    return { status: response.status, body, text }
  })

/** Polls in real time (the TestClock does not move by itself) until `check` holds. */
const eventually = <A>(effect: Effect.Effect<A>, check: (a: A) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const value = yield* effect
      if (check(value)) return value
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
    }
    return yield* Effect.dieMessage("condition not reached within 3 s")
  })

describe("NBP service: endpoints and shapes", () => {
  it.live("latest, dated (default same-day) and range answers", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn("2025-12-01")
      const { url } = yield* start(nbp)

      const latest = yield* call(`${url}/api/usd-pln-rate`)
      expect(latest.status).toBe(200)
      expect(latest.body).toEqual({
        code: "USD",
        rate: "3.6383",
        table: "232/A/NBP/2025",
        effectiveDate: "2025-12-01",
        source: "nbp",
        fetchedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        stale: false
      })

      const sameDay = yield* call(`${url}/api/usd-pln-rate?date=2024-12-24`)
      expect(sameDay.body).toMatchObject({
        rate: "4.1127",
        table: "249/A/NBP/2024",
        effectiveDate: "2024-12-24",
        requestedDate: "2024-12-24",
        rule: "same-day",
        stale: false
      })
      const previous = yield* call(`${url}/api/usd-pln-rate?date=2025-11-18&rule=previous-business-day`)
      expect(previous.body).toMatchObject({ rate: "3.6400", table: "222/A/NBP/2025", rule: "previous-business-day" })

      const range = yield* call(`${url}/api/usd-pln-rate/range?start_date=2025-04-17&end_date=2025-04-23`)
      expect(range.status).toBe(200)
      expect(range.body.count).toBe(4)
      expect(range.body.rates).toEqual([
        { code: "USD", rate: "3.7684", table: "075/A/NBP/2025", effectiveDate: "2025-04-17" },
        { code: "USD", rate: "3.7661", table: "076/A/NBP/2025", effectiveDate: "2025-04-18" },
        { code: "USD", rate: "3.7220", table: "077/A/NBP/2025", effectiveDate: "2025-04-22" },
        { code: "USD", rate: "3.7583", table: "078/A/NBP/2025", effectiveDate: "2025-04-23" }
      ])
      // a full 367-day range is allowed
      expect((yield* call(`${url}/api/usd-pln-rate/range?start_date=2024-01-01&end_date=2025-01-01`)).status).toBe(200)
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("the rule on real dates: holidays 2024–2025, Good Friday, New Year, May and November", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const { url } = yield* start(nbp)
      const days = [
        ...Array.from({ length: 20 }, (_, i) => addDays("2024-12-20", i)),
        ...Array.from({ length: 12 }, (_, i) => addDays("2025-12-20", i)),
        ...Array.from({ length: 8 }, (_, i) => addDays("2025-04-16", i)),
        ...Array.from({ length: 8 }, (_, i) => addDays("2024-04-28", i)),
        ...Array.from({ length: 6 }, (_, i) => addDays("2025-11-08", i)),
        "2026-01-01",
        "2026-01-02"
      ]
      for (const day of days) {
        for (const rule of ["previous-business-day", "same-day"] as const) {
          const answer = yield* call(`${url}/api/usd-pln-rate?date=${day}&rule=${rule}`)
          expect(`${day} ${rule} ${answer.status} ${answer.body.table}`).toBe(`${day} ${rule} 200 ${expectedTable(day, rule)}`)
        }
      }
    }).pipe(Effect.scoped), { timeout: 30_000 })

  it.live("400 for a bad date, an impossible date, an unknown rule, a bad or too long range; 404 before 2002", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const { url } = yield* start(nbp)
      const cases: ReadonlyArray<[string, number]> = [
        ["/api/usd-pln-rate?date=yesterday", 400],
        ["/api/usd-pln-rate?date=2025-2-3", 400],
        ["/api/usd-pln-rate?date=2025-02-30", 400],
        ["/api/usd-pln-rate?date=2025-02-03&rule=next-day", 400],
        ["/api/usd-pln-rate?rule=whatever", 400],
        ["/api/usd-pln-rate/range?start_date=2024-01-01&end_date=2025-01-02", 400],
        ["/api/usd-pln-rate/range?start_date=2025-02-01&end_date=2025-01-01", 400],
        ["/api/usd-pln-rate/range?start_date=2025-01-01", 400],
        ["/api/usd-pln-rate/range?start_date=2025-01-01&end_date=2025-02-29", 400],
        ["/api/usd-pln-rate?date=2001-12-31", 404],
        ["/api/usd-pln-rate?date=1999-05-04&rule=previous-business-day", 404],
        ["/api/usd-pln-rate/range?start_date=2001-01-01&end_date=2001-12-31", 404],
        ["/api/nothing-here", 404]
      ]
      for (const [path, status] of cases) {
        const answer = yield* call(`${url}${path}`)
        expect(`${path} → ${answer.status}`).toBe(`${path} → ${status}`)
        expect(typeof answer.body.error).toBe("string")
        expect(answer.body.rate).toBeUndefined()
      }
      expect((yield* call(`${url}/api/usd-pln-rate`, { method: "POST" })).status).toBe(405)
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("NBP down and nothing cached: 503 with no rate in the body; health degraded", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      nbp.setDown(true)
      const { url } = yield* start(nbp)
      for (const path of ["/api/usd-pln-rate", "/api/usd-pln-rate?date=2025-06-10", "/api/usd-pln-rate/range?start_date=2025-06-01&end_date=2025-06-30"]) {
        const answer = yield* call(`${url}${path}`)
        expect(answer.status).toBe(503)
        expect(Object.keys(answer.body)).toEqual(["error"])
        expect(answer.text).not.toMatch(/\d\.\d{4}/)
      }
      const health = yield* call(`${url}/health`)
      expect(health.status).toBe(200)
      expect(health.body).toMatchObject({ status: "degraded", service: "nbp-rate-service", latest: null })

      // failures were not cached: NBP back, the same questions are answered
      nbp.setDown(false)
      expect((yield* call(`${url}/api/usd-pln-rate?date=2025-06-10`)).body.table).toBe("111/A/NBP/2025")
      expect((yield* call(`${url}/api/usd-pln-rate`)).status).toBe(200)
      expect((yield* call(`${url}/health`)).body.status).toBe("healthy")
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("single flight: 50 concurrent requests for one uncached date make one NBP call, then none", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const { url } = yield* start(nbp)
      yield* eventually(call(`${url}/health`), (h) => h.body.status === "healthy")
      const before = nbp.requests()
      nbp.setDelay(200)
      const answers = yield* Effect.all(
        Array.from({ length: 50 }, () => call(`${url}/api/usd-pln-rate?date=2022-08-16&rule=previous-business-day`)),
        { concurrency: "unbounded" }
      )
      expect(new Set(answers.map((a) => `${a.status} ${a.body.table}`))).toEqual(
        new Set([`200 ${expectedTable("2022-08-16", "previous-business-day")}`])
      )
      expect(nbp.requests() - before).toBe(1)
      // a past day is immutable: asked again, no NBP call
      yield* call(`${url}/api/usd-pln-rate?date=2022-08-16&rule=previous-business-day`)
      expect(nbp.requests() - before).toBe(1)
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("cache clear: 403 without NBP_ADMIN_TOKEN, 401 with a wrong token, 200 and a refetch with the right one", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const open = yield* start(nbp)
      expect((yield* call(`${open.url}/api/cache/clear`, { method: "POST" })).status).toBe(403)

      // NBP_ADMIN_TOKEN= (set but empty) is "no token": 403, never open to an empty bearer.
      const empty = yield* Effect.provide(
        nbpServiceConfig,
        Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["NBP_ADMIN_TOKEN", ""]])))
      )
      expect(empty.adminToken).toBeUndefined()
      const blank = yield* start(nbp, { adminToken: Redacted.make("") })
      for (const authorization of [undefined, "Bearer ", "Bearer"]) {
        const res = yield* call(`${blank.url}/api/cache/clear`, {
          method: "POST",
          headers: authorization === undefined ? {} : { authorization }
        })
        expect(res.status).toBe(403)
      }
      const tooShort = yield* Effect.either(Effect.provide(
        nbpServiceConfig,
        Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["NBP_ADMIN_TOKEN", "short"]])))
      ))
      expect(tooShort._tag).toBe("Left")

      const guarded = yield* start(nbp, { adminToken: Redacted.make("s3cret") })
      yield* call(`${guarded.url}/api/usd-pln-rate?date=2025-06-10`)
      const before = nbp.requests()
      const wrong = yield* call(`${guarded.url}/api/cache/clear`, {
        method: "POST",
        headers: { authorization: "Bearer nope" }
      })
      expect(wrong.status).toBe(401)
      const right = yield* call(`${guarded.url}/api/cache/clear`, {
        method: "POST",
        headers: { authorization: "Bearer s3cret" }
      })
      expect(right.status).toBe(200)
      yield* call(`${guarded.url}/api/usd-pln-rate?date=2025-06-10`)
      expect(nbp.requests()).toBe(before + 1)
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("metrics in Prometheus text", () =>
    Effect.gen(function*() {
      const nbp = yield* scopedNbpStandIn()
      const { url } = yield* start(nbp)
      yield* call(`${url}/api/usd-pln-rate?date=2025-06-10`)
      yield* call(`${url}/api/usd-pln-rate?date=2025-02-30`)
      const metrics = yield* call(`${url}/metrics`)
      expect(metrics.status).toBe(200)
      expect(metrics.text).toContain(`nbp_http_requests_total{route="/api/usd-pln-rate",status="200"} 1`)
      expect(metrics.text).toContain(`nbp_http_requests_total{route="/api/usd-pln-rate",status="400"} 1`)
      expect(metrics.text).toContain(`nbp_upstream_requests_total{call="range",outcome="ok"} 1`)
      expect(metrics.text).toMatch(/# TYPE nbp_fetch_failures_total counter\nnbp_fetch_failures_total 0/)
    }).pipe(Effect.scoped), { timeout: 20_000 })
})

describe("NBP service: the latest table over time (TestClock)", () => {
  const latest = (url: string) => call(`${url}/api/usd-pln-rate`)

  /** At 2025-12-01 12:30Z, the service over a stand-in whose today is 2025-12-01, once its start-up fetch answers. */
  const startedOn1December = (timing: { readonly fetchInterval: Duration.Duration; readonly cacheTtl: Duration.Duration }) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2025-12-01T12:30:00Z"))
      const nbp = yield* scopedNbpStandIn("2025-12-01")
      const { url } = yield* start(nbp, timing)
      yield* eventually(latest(url), (a) => a.status === 200)
      return { nbp, url }
    })

  /** NBP publishes 2 December's table; `wait` later the service still answers 1 December's, with no new NBP call. */
  const stillFirstTableAfter = (nbp: NbpStandIn, url: string, wait: Duration.Duration) =>
    Effect.gen(function*() {
      nbp.setToday("2025-12-02")
      yield* TestClock.adjust(wait)
      expect((yield* latest(url)).body.table).toBe("232/A/NBP/2025")
      expect(nbp.requests()).toBe(1)
    })

  it.scoped("refreshed every FETCH_INTERVAL; a failed refresh serves the last table stale; recovery clears it", () =>
    Effect.gen(function*() {
      // the first fetch happens at start-up
      const { nbp, url } = yield* startedOn1December({ fetchInterval: Duration.hours(1), cacheTtl: Duration.hours(2) })
      expect((yield* latest(url)).body).toMatchObject({ table: "232/A/NBP/2025", stale: false })
      expect(nbp.requests()).toBe(1)

      // nothing moves before FETCH_INTERVAL
      yield* stillFirstTableAfter(nbp, url, Duration.minutes(59))

      // at FETCH_INTERVAL the background refresh picks up the new table
      yield* TestClock.adjust(Duration.minutes(1))
      yield* eventually(latest(url), (a) => a.body.table === "233/A/NBP/2025")
      expect(nbp.requests()).toBe(2)

      // NBP down at the next refresh: the last good table, marked stale, never a 5xx, never another rate
      nbp.setDown(true)
      yield* TestClock.adjust(Duration.hours(1))
      const stale = yield* eventually(latest(url), (a) => a.body.stale === true)
      expect(stale.status).toBe(200)
      expect(stale.body).toMatchObject({ rate: "3.6512", table: "233/A/NBP/2025", stale: true })
      expect((yield* call(`${url}/health`)).body).toMatchObject({ status: "degraded", latest: { stale: true } })
      expect((yield* call(`${url}/metrics`)).text).toContain("nbp_latest_stale 1")

      // still down past CACHE_TTL: still the last good table, still stale
      yield* TestClock.adjust(Duration.hours(1))
      yield* TestClock.adjust(Duration.minutes(1))
      expect((yield* latest(url)).body).toMatchObject({ table: "233/A/NBP/2025", stale: true })

      // NBP back: the next refresh clears the flag
      nbp.setDown(false)
      nbp.setToday("2025-12-03")
      yield* TestClock.adjust(Duration.hours(1))
      const recovered = yield* eventually(latest(url), (a) => a.body.stale === false)
      expect(recovered.body).toMatchObject({ table: "234/A/NBP/2025", rate: "3.6333", stale: false })
      expect((yield* call(`${url}/health`)).body.status).toBe("healthy")
    }), { timeout: 20_000 })

  it.scoped("the latest table expires after CACHE_TTL (when no refresh came first)", () =>
    Effect.gen(function*() {
      const { nbp, url } = yield* startedOn1December({ fetchInterval: Duration.days(1), cacheTtl: Duration.hours(2) })
      expect(nbp.requests()).toBe(1)

      yield* stillFirstTableAfter(nbp, url, Duration.hours(2))

      yield* TestClock.adjust(Duration.seconds(1))
      expect((yield* latest(url)).body).toMatchObject({ table: "233/A/NBP/2025", stale: false })
      expect(nbp.requests()).toBe(2)
    }), { timeout: 20_000 })
})
