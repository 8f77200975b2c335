/**
 * The service's rates: NBP's API behind the shared rate cache,
 * plus the cached range query, with every upstream call counted.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { Cache, Clock, Duration, Effect, Exit } from "effect"
import { firstNbpDay, type NbpTable } from "../src/domain/RateRule.js"
import * as NbpApi from "../src/rates/NbpApi.js"
import { NbpRateError } from "../src/rates/NbpRateError.js"
import { warsawDay, warsawToday } from "../src/domain/WarsawDay.js"
import { directSource, isFinal, makeRateCache, type RateCache } from "../src/rates/RateCache.js"
import type { ServiceMetrics } from "./Metrics.js"

export interface RangeAnswer {
  readonly tables: ReadonlyArray<NbpTable>
  readonly fetchedAt: number
}

export interface RateService extends RateCache {
  /** every table in [start, end]; the caller has validated the days and the 367-day limit */
  readonly range: (start: string, end: string) => Effect.Effect<RangeAnswer, NbpRateError>
  readonly clearAll: Effect.Effect<void>
}

export interface RateServiceOptions {
  readonly apiUrl: string
  readonly cacheTtl: Duration.DurationInput
  readonly timeout?: Duration.DurationInput
  readonly metrics: ServiceMetrics
}

const counted = <A>(
  metrics: ServiceMetrics,
  call: string,
  effect: Effect.Effect<A, NbpRateError>
): Effect.Effect<A, NbpRateError> =>
  effect.pipe(
    Effect.tap(() => metrics.countUpstream(call, "ok")),
    Effect.tapError((error) =>
      Effect.zipRight(
        Effect.sync(() => metrics.countUpstream(call, error.reason)),
        error.reason === "unreachable"
          ? Effect.logWarning("NBP API call failed").pipe(Effect.annotateLogs({ call, error: error.message }))
          : Effect.void
      )
    )
  )

export const makeRateService = (
  options: RateServiceOptions
): Effect.Effect<RateService, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const raw = yield* NbpApi.make({ apiUrl: options.apiUrl, timeout: options.timeout ?? Duration.seconds(10) })
    const { metrics } = options
    const api: NbpApi.NbpApi = {
      latest: counted(metrics, "latest", raw.latest).pipe(
        Effect.tap((table) => Effect.logInfo("fetched the latest NBP table").pipe(Effect.annotateLogs({ table: table.no })))
      ),
      day: (date) => counted(metrics, "day", raw.day(date)),
      range: (start, end) => counted(metrics, "range", raw.range(start, end)),
      last: (n) => counted(metrics, "last", raw.last(n))
    }
    const rates = yield* makeRateCache(directSource(api), { cacheTtl: options.cacheTtl })

    const ranges = yield* Cache.makeWith({
      capacity: 2_000,
      lookup: (key: string) =>
        Effect.gen(function*() {
          const [start, requestedEnd] = key.split("|")
          const today = yield* warsawToday
          const end = requestedEnd > today ? today : requestedEnd
          if (end < firstNbpDay || start > end) {
            return yield* Effect.fail(
              new NbpRateError({ reason: "not-found", message: `no NBP table A between ${start} and ${requestedEnd}` })
            )
          }
          const tables = yield* api.range(start < firstNbpDay ? firstNbpDay : start, end)
          const fetchedAt = yield* Clock.currentTimeMillis
          return { tables, fetchedAt, final: isFinal(requestedEnd, warsawDay(fetchedAt)) }
        }),
      timeToLive: (exit) =>
        Exit.isSuccess(exit) ? (exit.value.final ? Duration.infinity : Duration.minutes(5)) : Duration.zero
    })

    const range = (start: string, end: string) => {
      const key = `${start}|${end}`
      return ranges.get(key).pipe(Effect.tapError(() => ranges.invalidate(key)))
    }

    return {
      ...rates,
      range,
      size: Effect.zipWith(rates.size, ranges.size, (a, b) => a + b),
      clearAll: Effect.zipRight(rates.clear, ranges.invalidateAll)
    }
  })
