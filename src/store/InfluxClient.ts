/**
 * The one place that talks HTTP to InfluxDB: line-protocol writes, InfluxQL queries
 * and the reachability ping, with the connection settings and credentials.
 *
 * - write, `INFLUXDB_API=v2`: `POST {url}/api/v2/write?org=&bucket=&precision=ns`, `Authorization: Token …`
 * - write, `INFLUXDB_API=v1`: `POST {url}/write?db=<bucket>&precision=ns`; a token `user:password`
 *   goes as basic auth, any other token as `Token …`
 * - query (both): `GET {url}/query?db=<bucket>&epoch=ns&q=…` (InfluxQL), same credentials
 *
 * The token lives in a `Redacted` and is only ever put into a header: no error message, log line
 * or URL carries it.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { Duration, Effect, Layer, Redacted, Schema } from "effect"
import { AppConfig, type InfluxSettings } from "../platform/Config.js"

export class InfluxError extends Schema.TaggedError<InfluxError>()("InfluxError", {
  message: Schema.String,
  /** The HTTP status when InfluxDB answered; absent when it could not be reached. */
  status: Schema.optional(Schema.Number),
  /** InfluxDB's own words (the `error` or `message` of its JSON answer), one line, cut short. */
  reason: Schema.optional(Schema.String)
}) {}

/** 4xx answers that say nothing about the rows written: the whole batch is tried again later. */
const RETRY_LATER = new Set([404, 408, 413, 429])

/** 401/403: InfluxDB refuses our credentials — a configuration error, never the rows' fault. */
export const isConfigurationError = (e: InfluxError) => e.status === 401 || e.status === 403

/**
 * A write InfluxDB refuses for good because of what the lines say (a 4xx other than
 * 401/403/404/408/413/429, e.g. 400 `partial write: unable to parse` or a field type conflict):
 * sending the same lines again gets the same answer.
 */
export const isRefusedForGood = (e: InfluxError) =>
  e.status !== undefined && e.status >= 400 && e.status < 500 && !RETRY_LATER.has(e.status) && !isConfigurationError(e)

/** InfluxDB's error text: v1 answers `{"error":…}`, v2 and Cloud `{"code":…,"message":…}`. */
export const errorReason = (body: string): string => {
  let text = body
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown }
    if (typeof parsed.error === "string") text = parsed.error
    else if (typeof parsed.message === "string") text = parsed.message
  } catch {
    // not JSON: the body as it came
  }
  return text.replace(/\s+/g, " ").trim().slice(0, 500)
}

export interface InfluxClientShape {
  readonly settings: Omit<InfluxSettings, "token">
  /** Writes newline-separated line protocol (ns precision); succeeds only on a 2xx. */
  readonly write: (lineProtocol: string) => Effect.Effect<void, InfluxError>
  /** Runs one InfluxQL statement; the raw JSON text of a 2xx answer (see InfluxUsageStore for why raw). */
  readonly query: (influxql: string) => Effect.Effect<string, InfluxError>
  /** `GET /ping`: the status InfluxDB answered with (204 when healthy). */
  readonly ping: Effect.Effect<number, InfluxError>
}

export interface Timeouts {
  readonly write: Duration.DurationInput
  readonly query: Duration.DurationInput
  readonly ping: Duration.DurationInput
}

const defaultTimeouts: Timeouts = { write: "30 seconds", query: "120 seconds", ping: "2 seconds" }

/** The Authorization header value for these settings, or undefined when there is no token. */
export const authorization = (settings: Pick<InfluxSettings, "api" | "token">): string | undefined => {
  if (settings.token === undefined) return undefined
  const token = Redacted.value(settings.token)
  if (settings.api === "v1" && token.includes(":")) return `Basic ${Buffer.from(token, "utf8").toString("base64")}`
  return `Token ${token}`
}

/** A transport failure's cause, without the request (whose URL could name the host's userinfo). */
const transportReason = (e: HttpClientError.HttpClientError) => {
  const cause = e.cause as { message?: unknown; cause?: { message?: unknown; code?: unknown } } | undefined
  const inner = cause?.cause?.code ?? cause?.cause?.message
  return [cause?.message ?? e.reason, inner].filter((x) => x !== undefined).map(String).join(": ")
}

const make = (settings: InfluxSettings, timeouts: Timeouts = defaultTimeouts) =>
  Effect.gen(function*() {
    const http = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerPropagation(false),
      HttpClient.withTracerDisabledWhen(() => true)
    )
    const auth = authorization(settings)
    const withAuth = (req: HttpClientRequest.HttpClientRequest) =>
      auth === undefined ? req : HttpClientRequest.setHeader(req, "authorization", auth)

    /** Runs a request and reads the whole body (a 2xx only), with a deadline covering both. */
    const run = (what: string, req: HttpClientRequest.HttpClientRequest, timeout: Duration.DurationInput) =>
      http.execute(withAuth(req)).pipe(
        Effect.flatMap((res) => Effect.map(res.text, (body) => ({ status: res.status, body }))),
        Effect.mapError((e) => new InfluxError({ message: `InfluxDB ${what}: unreachable (${transportReason(e)})` })),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new InfluxError({ message: `InfluxDB ${what}: no answer within ${Duration.format(timeout)}` })
        })
      )

    const ok = (what: string) => (r: { status: number; body: string }) =>
      r.status >= 200 && r.status < 300
        ? Effect.succeed(r.body)
        : Effect.fail(
          new InfluxError({
            message: `InfluxDB ${what}: HTTP ${r.status}: ${r.body.replace(/\s+/g, " ").slice(0, 300)}`,
            status: r.status,
            reason: errorReason(r.body)
          })
        )

    const writeRequest = settings.api === "v2"
      ? HttpClientRequest.post(`${settings.url}/api/v2/write`).pipe(
        HttpClientRequest.setUrlParams({ org: settings.org ?? "", bucket: settings.bucket, precision: "ns" })
      )
      : HttpClientRequest.post(`${settings.url}/write`).pipe(
        HttpClientRequest.setUrlParams({ db: settings.bucket, precision: "ns" })
      )

    const write: InfluxClientShape["write"] = (lines) =>
      run("write", HttpClientRequest.bodyText(writeRequest, lines, "text/plain; charset=utf-8"), timeouts.write).pipe(
        Effect.flatMap(ok("write")),
        Effect.asVoid
      )

    const query: InfluxClientShape["query"] = (q) =>
      run(
        "query",
        HttpClientRequest.get(`${settings.url}/query`).pipe(
          HttpClientRequest.setUrlParams({ db: settings.bucket, epoch: "ns", q }),
          HttpClientRequest.acceptJson
        ),
        timeouts.query
      ).pipe(Effect.flatMap(ok("query")))

    const ping = run("ping", HttpClientRequest.get(`${settings.url}/ping`), timeouts.ping).pipe(Effect.map((r) => r.status))

    const { token: _token, ...visible } = settings
    const client: InfluxClientShape = { settings: visible, write, query, ping }
    return client
  })

/** `InfluxClient.Default(settings, timeouts)`: over an HttpClient (see `layerFromSettings`). */
export class InfluxClient extends Effect.Service<InfluxClient>()("mai-usage/InfluxClient", { effect: make }) {}

// undici (~15 MB of RSS once loaded) loads only when an InfluxDB client is built, not with every
// server start: embedded mode never needs it.
const undiciLayer = Layer.unwrapEffect(
  Effect.map(Effect.promise(() => import("@effect/platform-node/NodeHttpClient")), (m) => m.layerUndici)
)

/** A client for explicit settings, with its own HTTP client (no requirements). */
export const layerFromSettings = (settings: InfluxSettings, timeouts?: Timeouts) =>
  InfluxClient.Default(settings, timeouts).pipe(Layer.provide(undiciLayer))

/** The client for the configured InfluxDB; only built in InfluxDB mode (`INFLUXDB_URL` set). */
export const layer: Layer.Layer<InfluxClient, never, AppConfig> = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    config.influx === undefined
      ? Layer.die("InfluxClient needs INFLUXDB_URL (InfluxDB mode)")
      : layerFromSettings(config.influx))
)
