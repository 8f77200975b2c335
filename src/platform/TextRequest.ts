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

const CAUSES: ReadonlyArray<readonly [RegExp, (host: string) => string]> = [
  [/^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)$/, (host) => `the host name ${host} could not be resolved (DNS: no network, or a wrong host)`],
  [/^ECONNREFUSED$/, (host) => `${host} refused the connection (nothing listens there)`],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|ESOCKETTIMEDOUT)$/, (host) => `${host} did not answer the connection (time-out: a firewall, or no route)`],
  [/^(ENETUNREACH|EHOSTUNREACH)$/, (host) => `${host} cannot be reached from this machine (no route to it)`],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/, (host) => `${host} closed the connection`],
  [/CERT|TLS|SSL/, (host) => `the TLS handshake with ${host} failed`]
]

/** The error codes in a chain of causes (fetch wraps the socket's error). */
const codesOf = (error: unknown): Array<string> => {
  const out: Array<string> = []
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === "string") out.push(code)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

/**
 * Why an outbound request got no answer, in words that name the host and the cause (DNS, refused,
 * time-out, no route, reset, TLS) instead of "Transport error". The URL's credentials never appear:
 * only its host and port.
 */
export const unreachableReason = (error: HttpClientError.HttpClientError): string => {
  let host = "the host"
  try {
    host = new URL(error.request.url).host
  } catch {
    // a request without a usable URL: say "the host"
  }
  const codes = codesOf((error as { cause?: unknown }).cause)
  for (const code of codes) {
    const found = CAUSES.find(([pattern]) => pattern.test(code))
    if (found !== undefined) return `${found[1](host)} [${code}]`
  }
  return codes.length > 0 ? `no answer from ${host} [${codes[0]}]` : `no answer from ${host} (${error.reason})`
}
