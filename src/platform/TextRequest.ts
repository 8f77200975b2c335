/**
 * One outbound HTTP request whose answer is read as text, within a timeout: the skeleton the
 * clients of NBP, of the shared NBP service and of OpenRouter share. What a status means, and the
 * wording of each failure, stays with the caller; so do retries.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type { Duration } from "effect"
import { Effect } from "effect"

export interface TextResponse {
  readonly status: number
  readonly text: string
}

export interface TextRequestOptions<E> {
  /** for the whole exchange, the body included */
  readonly timeout: Duration.DurationInput
  readonly onTimeout: () => E
  /** no answer: a connection failure, or the body could not be read */
  readonly onUnreachable: (error: HttpClientError.HttpClientError) => E
}

export const textRequest = <E>(
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  options: TextRequestOptions<E>
): Effect.Effect<TextResponse, E> =>
  client.execute(request).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (text): TextResponse => ({ status: response.status, text }))),
    Effect.mapError(options.onUnreachable),
    Effect.timeoutFail({ duration: options.timeout, onTimeout: options.onTimeout })
  )

/** The platform's client for calls to other services: no trace headers (no tracing is exported). */
export const outboundClient: Effect.Effect<HttpClient.HttpClient, never, HttpClient.HttpClient> = Effect.map(
  HttpClient.HttpClient,
  HttpClient.withTracerPropagation(false)
)
