/**
 * A `RateSource` backed by the shared NBP rate service (`nbp/`):
 * `GET {serviceUrl}/api/usd-pln-rate[?date=&rule=]`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Either, Schema } from "effect"
import { makeTable } from "../domain/RateRule.js"
import { NbpRateError } from "./NbpRateError.js"
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
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const base = options.serviceUrl.replace(/\/+$/, "")
    const timeout = options.timeout ?? Duration.seconds(10)

    const ask = (query: string): Effect.Effect<SourcedTable, NbpRateError> => {
      const url = `${base}/api/usd-pln-rate${query}`
      return client.execute(HttpClientRequest.get(url, { acceptJson: true })).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body }))),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new NbpRateError({
              reason: "unreachable",
              message: `NBP service did not answer within ${Duration.format(timeout)}: GET ${url}`
            })
        }),
        Effect.catchTag("RequestError", "ResponseError", (error) =>
          Effect.fail(
            new NbpRateError({ reason: "unreachable", message: `NBP service unreachable: ${error.message}` })
          )),
        Effect.flatMap(({ body, status }) => {
          if (status === 200) {
            const parsed = Either.flatMap(
              Either.mapLeft(decodeQuote(body), () => `unexpected NBP service response: ${body.slice(0, 120)}`),
              (quote) =>
                Either.map(
                  makeTable(quote.table, quote.effectiveDate, quote.rate),
                  (table): SourcedTable => ({ table, stale: quote.stale === true })
                )
            )
            return Either.match(parsed, {
              onLeft: (message) => Effect.fail(new NbpRateError({ reason: "unreachable", message })),
              onRight: Effect.succeed
            })
          }
          const detail = Either.match(decodeError(body), {
            onLeft: () => body.slice(0, 200),
            onRight: (e) => e.error
          })
          const reason = status === 404 ? "not-found" : status === 400 ? "bad-request" : "unreachable"
          return Effect.fail(new NbpRateError({ reason, message: `NBP service (${status}): ${detail}` }))
        })
      )
    }

    return {
      latest: ask(""),
      select: (day, rule) => ask(`?date=${encodeURIComponent(day)}&rule=${encodeURIComponent(rule)}`)
    }
  })
