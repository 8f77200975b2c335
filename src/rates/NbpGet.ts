/**
 * One GET of NBP's API or of the shared NBP service, as both NBP clients make it: a 200 answer's
 * body parsed, any other status (404: not-found, 400: bad-request, else unreachable), a timeout
 * or a connection failure as an `NbpRateError`. Credentials in a URL never reach a message.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Either } from "effect"
import { maskUrlsIn } from "../domain/Redact.js"
import { textRequest, unreachableReason } from "../platform/TextRequest.js"
import { NbpRateError } from "./NbpRateError.js"

export interface NbpGetOptions<A> {
  /** who answers, as messages name it: "NBP", "NBP service" */
  readonly who: string
  readonly timeout: Duration.DurationInput
  /** a 200 answer's body; Left: why it is not usable (reported as unreachable) */
  readonly parse: (body: string) => Either.Either<A, string>
  /** the message for any other status */
  readonly refused: (status: number, body: string) => string
}

const reasonOf = (status: number): NbpRateError["reason"] =>
  status === 404 ? "not-found" : status === 400 ? "bad-request" : "unreachable"

export const nbpGet = <A>(client: HttpClient.HttpClient, url: string, options: NbpGetOptions<A>): Effect.Effect<A, NbpRateError> =>
  textRequest(client, HttpClientRequest.get(url, { acceptJson: true }), {
    timeout: options.timeout,
    onTimeout: () =>
      new NbpRateError({
        reason: "unreachable",
        message: maskUrlsIn(`${options.who} did not answer within ${Duration.format(options.timeout)}: GET ${url}`)
      }),
    onUnreachable: (error) =>
      new NbpRateError({ reason: "unreachable", message: maskUrlsIn(`${options.who} unreachable: ${unreachableReason(error)}`) })
  }).pipe(
    Effect.flatMap(({ status, text }) =>
      status === 200
        ? Either.match(options.parse(text), {
          onLeft: (message) => Effect.fail(new NbpRateError({ reason: "unreachable", message })),
          onRight: Effect.succeed
        })
        : Effect.fail(new NbpRateError({ reason: reasonOf(status), message: options.refused(status, text) }))
    )
  )
