/**
 * Client for NBP's USD rates resource (`…/exchangerates/rates/a/usd/`).
 *
 * NBP answers JSON on success and plain text on errors
 * (`404 NotFound - Not Found - Brak danych`, `400 BadRequest - …`).
 * `mid` is read from the body's text, never through a JavaScript number.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Duration, Effect, Either, Schema } from "effect"
import { makeTable, type NbpTable } from "../domain/RateRule.js"
import { outboundClient } from "../platform/TextRequest.js"
import { nbpGet } from "./NbpGet.js"
import { NbpRateError } from "./NbpRateError.js"

export interface NbpApi {
  /** the newest published table (`{url}?format=json`) */
  readonly latest: Effect.Effect<NbpTable, NbpRateError>
  /** the table of one day (`{url}{date}/`); not-found when NBP published none */
  readonly day: (date: string) => Effect.Effect<NbpTable, NbpRateError>
  /** every table in [start, end] (`{url}{start}/{end}/`), at most 367 days */
  readonly range: (start: string, end: string) => Effect.Effect<ReadonlyArray<NbpTable>, NbpRateError>
  /** the newest n tables (`{url}last/{n}/`), n ≤ 255 */
  readonly last: (n: number) => Effect.Effect<ReadonlyArray<NbpTable>, NbpRateError>
}

export interface NbpApiOptions {
  /** NBP's USD resource, e.g. https://api.nbp.pl/api/exchangerates/rates/a/usd/ */
  readonly apiUrl: string
  readonly timeout?: Duration.DurationInput
}

const RatesBody = Schema.Struct({
  table: Schema.String,
  code: Schema.String,
  rates: Schema.Array(Schema.Struct({ no: Schema.String, effectiveDate: Schema.String, mid: Schema.String }))
})
const decodeRatesBody = Schema.decodeUnknownEither(Schema.parseJson(RatesBody))

/** Quotes every `"mid": <number>` so JSON.parse keeps NBP's exact decimal text. */
const quoteMids = (body: string): string =>
  body.replace(/("mid"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=\s*[,}])/g, "$1\"$2\"")

/** Parses an NBP rates body into tables, keeping `mid` as decimal text. */
export const parseRatesBody = (body: string): Either.Either<ReadonlyArray<NbpTable>, string> =>
  decodeRatesBody(quoteMids(body)).pipe(
    Either.mapLeft(() => `unexpected NBP response: ${body.slice(0, 120)}`),
    Either.flatMap((parsed) => Either.all(parsed.rates.map((r) => makeTable(r.no, r.effectiveDate, r.mid))))
  )

const withSlash = (url: string): string => (url.endsWith("/") ? url : `${url}/`)

/** NBP's plain-text error, shortened for a log line or an error message. */
const errorText = (body: string): string => body.trim().replace(/\s+/g, " ").slice(0, 200)

export const make = (options: NbpApiOptions): Effect.Effect<NbpApi, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* outboundClient
    const base = withSlash(options.apiUrl)
    const timeout = options.timeout ?? Duration.seconds(10)

    const fetchTables = (path: string): Effect.Effect<ReadonlyArray<NbpTable>, NbpRateError> =>
      nbpGet(client, `${base}${path}?format=json`, {
        who: "NBP",
        timeout,
        parse: parseRatesBody,
        refused: (status, body) =>
          status === 404 || status === 400 ? `NBP: ${errorText(body)}` : `NBP answered ${status}: ${errorText(body)}`
      })

    const single = (tables: ReadonlyArray<NbpTable>) =>
      tables.length > 0
        ? Effect.succeed(tables[tables.length - 1])
        : Effect.fail(new NbpRateError({ reason: "not-found", message: "NBP returned no table" }))

    return {
      latest: Effect.flatMap(fetchTables(""), single),
      day: (date) => Effect.flatMap(fetchTables(`${date}/`), single),
      range: (start, end) => fetchTables(`${start}/${end}/`),
      last: (n) => fetchTables(`last/${n}/`)
    }
  })
