/**
 * A `RateSource` backed by the shared NBP rate service (`nbp/`):
 * `GET {serviceUrl}/api/usd-pln-rate[?date=&rule=]`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Duration, Effect, Either, Schema } from "effect"
import { makeTable } from "../domain/RateRule.js"
import { outboundClient } from "../platform/TextRequest.js"
import { nbpGet } from "./NbpGet.js"
import type { NbpRateError } from "./NbpRateError.js"
import type { RateSource, SourcedTable } from "./RateCache.js"

const QuoteBody = Schema.Struct({
  rate: Schema.String,
  table: Schema.String,
  effectiveDate: Schema.String,
  stale: Schema.optional(Schema.Boolean)
})
const decodeQuote = Schema.decodeUnknownEither(Schema.parseJson(QuoteBody))
const ErrorBody = Schema.Struct({ error: Schema.String })
const decodeError = Schema.decodeUnknownEither(Schema.parseJson(ErrorBody))

export interface NbpServiceClientOptions {
  readonly serviceUrl: string
  readonly timeout?: Duration.DurationInput
}

export const make = (options: NbpServiceClientOptions): Effect.Effect<RateSource, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* outboundClient
    const base = options.serviceUrl.replace(/\/+$/, "")
    const timeout = options.timeout ?? Duration.seconds(10)

    const ask = (query: string): Effect.Effect<SourcedTable, NbpRateError> =>
      nbpGet(client, `${base}/api/usd-pln-rate${query}`, {
        who: "NBP service",
        timeout,
        parse: (body) =>
          Either.flatMap(
            Either.mapLeft(decodeQuote(body), () => `unexpected NBP service response: ${body.slice(0, 120)}`),
            (quote) =>
              Either.map(
                makeTable(quote.table, quote.effectiveDate, quote.rate),
                (table): SourcedTable => ({ table, stale: quote.stale === true })
              )
          ),
        refused: (status, body) => {
          const detail = Either.match(decodeError(body), { onLeft: () => body.slice(0, 200), onRight: (e) => e.error })
          return `NBP service (${status}): ${detail}`
        }
      })

    return {
      latest: ask(""),
      select: (day, rule) => ask(`?date=${encodeURIComponent(day)}&rule=${encodeURIComponent(rule)}`)
    }
  })
