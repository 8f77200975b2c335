/**
 * The app's source of NBP rates: `NbpRate.forUsageDay(day, rule)`
 * picks the table for a usage day, `NbpRate.latest` the newest table.
 * Through the NBP service when `serviceUrl` is set, straight from NBP
 * otherwise; the same caching either way. No invented rate, ever.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Duration, Effect, Either } from "effect"
import { type ExchangeRateRule, isExchangeRateRule } from "../domain/RateRule.js"
import { parseDay } from "../domain/WarsawDay.js"
import * as NbpApi from "./NbpApi.js"
import { NbpRateError } from "./NbpRateError.js"
import * as NbpServiceClient from "./NbpServiceClient.js"
import { directSource, makeRateCache } from "./RateCache.js"
import { type RateQuote, toRateQuote } from "./RateQuote.js"

export type { ExchangeRateRule } from "../domain/RateRule.js"
export { NbpRateError } from "./NbpRateError.js"
export type { RateQuote } from "./RateQuote.js"

export interface NbpRateOptions {
  /** the NBP rate service; unset → ask NBP directly */
  readonly serviceUrl: string | undefined
  /** NBP's USD resource, used when `serviceUrl` is unset */
  readonly apiUrl: string
  /** how long the latest table is kept (default 15 minutes) */
  readonly latestTtl?: Duration.DurationInput
  /** per upstream request (default 10 seconds) */
  readonly timeout?: Duration.DurationInput
  /** told of every upstream call (NBP or the NBP service) that failed, with its reason */
  readonly onFetchFailure?: (reason: NbpRateError["reason"]) => void
}

/** What the batch and the reports ask of NBP. */
export interface NbpRateShape {
  /** the table for a Warsaw calendar day (YYYY-MM-DD) under the rule */
  readonly forUsageDay: (day: string, rule: ExchangeRateRule) => Effect.Effect<RateQuote, NbpRateError>
  /** the newest table; `stale: true` when a refresh failed and the last good one is served */
  readonly latest: Effect.Effect<RateQuote, NbpRateError>
}

/**
 * One implementation; where its tables come from (NBP itself or the NBP service, two
 * `RateSource`s) is chosen here from the options. `NbpRate.Default(options)` brings its own HTTP
 * client: no requirements left.
 */
export class NbpRate extends Effect.Service<NbpRate>()("mai-usage/NbpRate", {
  effect: (options: NbpRateOptions) =>
    Effect.gen(function*() {
      const timeout = options.timeout ?? Duration.seconds(10)
      const upstream = options.serviceUrl === undefined || options.serviceUrl === ""
        ? directSource(yield* NbpApi.make({ apiUrl: options.apiUrl, timeout }))
        : yield* NbpServiceClient.make({ serviceUrl: options.serviceUrl, timeout })
      const counted = <A>(call: Effect.Effect<A, NbpRateError>) =>
        Effect.tapError(call, (e) => Effect.sync(() => options.onFetchFailure?.(e.reason)))
      const source = {
        latest: counted(upstream.latest),
        select: (day: string, rule: ExchangeRateRule) => counted(upstream.select(day, rule))
      }
      const cache = yield* makeRateCache(source, { cacheTtl: options.latestTtl ?? Duration.minutes(15) })

      const forUsageDay = (day: string, rule: ExchangeRateRule): Effect.Effect<RateQuote, NbpRateError> =>
        Either.match(parseDay(day), {
          onLeft: ({ message }) => Effect.fail(new NbpRateError({ reason: "bad-request", message })),
          onRight: (valid) =>
            isExchangeRateRule(rule)
              ? Effect.map(cache.select(valid, rule), (cached) => toRateQuote(cached, { day: valid, rule }))
              : Effect.fail(new NbpRateError({ reason: "bad-request", message: `unknown rule ${JSON.stringify(rule)}` }))
        })

      const service: NbpRateShape = {
        forUsageDay,
        latest: Effect.map(cache.latest, (cached) => toRateQuote(cached))
      }
      return service
    }),
  dependencies: [FetchHttpClient.layer]
}) {}
