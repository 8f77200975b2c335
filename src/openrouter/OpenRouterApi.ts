/**
 * OpenRouter's own API, as far as this service uses it: the activity of a key per day
 * (`GET /activity`), the calling key's usage (`GET /key`), the keys list (`GET /keys`, to find the
 * client's key hash) and Broadcast destinations (`/observability/destinations`).
 *
 * Every call has a timeout; idempotent calls (GET, PATCH) are retried with exponential back-off on
 * connection failures, timeouts, 429 and 5xx; a POST (creating a destination) is never retried, so
 * a slow answer cannot create two destinations. Keys go into the Authorization header only: no
 * error or log line built here ever contains one. Responses are decoded with Schema; fields we do
 * not use are ignored, so OpenRouter adding fields breaks nothing.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Context, Duration, Effect, Either, Layer, Redacted, Schedule, Schema } from "effect"
import { AppConfig } from "../Config.js"

export class OpenRouterError extends Schema.TaggedError<OpenRouterError>()("OpenRouterError", {
  reason: Schema.Literal("not-configured", "unreachable", "timeout", "unauthorized", "rejected", "server", "bad-response"),
  status: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

// ---- response shapes (OpenRouter's API reference; snake_case as on the wire) --------------------

/** One row of `GET /activity`: a (date, model, endpoint) of the key's completed UTC day. */
export const ActivityItem = Schema.Struct({
  date: Schema.String,
  model: Schema.String,
  model_permaslug: Schema.optional(Schema.NullOr(Schema.String)),
  endpoint_id: Schema.optional(Schema.NullOr(Schema.String)),
  provider_name: Schema.optional(Schema.NullOr(Schema.String)),
  /** USD of OpenRouter credits spent */
  usage: Schema.Number,
  byok_usage_inference: Schema.optional(Schema.NullOr(Schema.Number)),
  requests: Schema.Number,
  prompt_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  completion_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  reasoning_tokens: Schema.optional(Schema.NullOr(Schema.Number))
})
export type ActivityItem = typeof ActivityItem.Type
const ActivityResponse = Schema.Struct({ data: Schema.Array(ActivityItem) })

/** `GET /key`: the calling key. `usage` is cumulative USD, `usage_daily` the current UTC day's. */
export const CurrentKey = Schema.Struct({
  label: Schema.optional(Schema.NullOr(Schema.String)),
  usage: Schema.Number,
  usage_daily: Schema.Number
})
export type CurrentKey = typeof CurrentKey.Type
const CurrentKeyResponse = Schema.Struct({ data: CurrentKey })

/** One key of `GET /keys` (management key). */
export const ApiKeyInfo = Schema.Struct({
  hash: Schema.String,
  name: Schema.optional(Schema.NullOr(Schema.String)),
  label: Schema.optional(Schema.NullOr(Schema.String)),
  disabled: Schema.optional(Schema.NullOr(Schema.Boolean))
})
export type ApiKeyInfo = typeof ApiKeyInfo.Type
const KeysResponse = Schema.Struct({ data: Schema.Array(ApiKeyInfo) })

/** A Broadcast (observability) destination; `config` depends on `type` (webhook: url, method, headers). */
export const Destination = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  privacy_mode: Schema.Boolean,
  sampling_rate: Schema.Number,
  api_key_hashes: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type Destination = typeof Destination.Type
const DestinationResponse = Schema.Struct({ data: Destination })
const DestinationsResponse = Schema.Struct({
  data: Schema.Array(Destination),
  total_count: Schema.optional(Schema.NullOr(Schema.Number))
})

/** The webhook type's config. */
export const WebhookConfig = Schema.Struct({
  url: Schema.String,
  method: Schema.optional(Schema.NullOr(Schema.String)),
  headers: Schema.optional(Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String })))
})
export type WebhookConfig = typeof WebhookConfig.Type
export const webhookConfig = (d: Destination): WebhookConfig | undefined =>
  Either.getOrUndefined(Schema.decodeUnknownEither(WebhookConfig)(d.config))

/** What `connect` sends, create and update alike. */
export interface DestinationBody {
  readonly name: string
  readonly type?: "webhook"
  readonly enabled: boolean
  readonly privacy_mode: boolean
  readonly sampling_rate: number
  readonly api_key_hashes: ReadonlyArray<string>
  readonly config: { readonly url: string; readonly method: "POST"; readonly headers: Record<string, string> }
}

export interface OpenRouterApiShape {
  readonly baseUrl: string
  readonly hasManagementKey: boolean
  readonly hasApiKey: boolean
  /** `GET /activity?date=D&api_key_hash=H` (management key) */
  readonly activity: (date: string, apiKeyHash: string) => Effect.Effect<ReadonlyArray<ActivityItem>, OpenRouterError>
  /** `GET /key` with OPENROUTER_API_KEY */
  readonly currentKey: Effect.Effect<CurrentKey, OpenRouterError>
  /** `GET /keys` (management key) */
  readonly listKeys: Effect.Effect<ReadonlyArray<ApiKeyInfo>, OpenRouterError>
  /** every destination of the workspace, all pages */
  readonly listDestinations: Effect.Effect<ReadonlyArray<Destination>, OpenRouterError>
  readonly createDestination: (body: DestinationBody) => Effect.Effect<Destination, OpenRouterError>
  readonly updateDestination: (id: string, body: DestinationBody) => Effect.Effect<Destination, OpenRouterError>
}

export class OpenRouterApi extends Context.Tag("mai-usage/OpenRouterApi")<OpenRouterApi, OpenRouterApiShape>() {}

export interface OpenRouterApiOptions {
  readonly apiUrl: string
  readonly managementKey: Redacted.Redacted<string> | undefined
  readonly apiKey: Redacted.Redacted<string> | undefined
  /** per attempt; default 10 s */
  readonly timeout?: Duration.DurationInput
  /** retries after the first attempt; default 3 */
  readonly retries?: number
  /** first back-off delay, doubled each retry (jittered); default 500 ms */
  readonly backoff?: Duration.DurationInput
}

const ErrorBody = Schema.Struct({ error: Schema.Struct({ message: Schema.String }) })
const decodeErrorBody = Schema.decodeUnknownEither(Schema.parseJson(ErrorBody))

const PAGE = 100
const MAX_PAGES = 20

export const make = (options: OpenRouterApiOptions): Effect.Effect<OpenRouterApiShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const base = options.apiUrl.replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(10))
    const retries = options.retries ?? 3
    const secrets = [options.managementKey, options.apiKey].filter((k) => k !== undefined).map(Redacted.value)
    /** Defence in depth: whatever text came back, no key of ours leaves this module. */
    const scrub = (text: string) => secrets.reduce((t, s) => (s === "" ? t : t.split(s).join("***")), text)

    const fail = (reason: OpenRouterError["reason"], status: number | null, message: string) =>
      new OpenRouterError({ reason, status, message: scrub(message) })

    const call = <A, I>(
      key: "management" | "api",
      method: "GET" | "POST" | "PATCH",
      path: string,
      schema: Schema.Schema<A, I>,
      body?: unknown
    ): Effect.Effect<A, OpenRouterError> => {
      const secret = key === "management" ? options.managementKey : options.apiKey
      const what = `${method} ${path.split("?")[0]}`
      if (secret === undefined) {
        return Effect.fail(fail(
          "not-configured",
          null,
          key === "management" ? `OPENROUTER_MANAGEMENT_KEY is not set (needed for ${what})` : `OPENROUTER_API_KEY is not set (needed for ${what})`
        ))
      }
      let request = HttpClientRequest.make(method)(`${base}${path}`).pipe(
        HttpClientRequest.setHeader("authorization", `Bearer ${Redacted.value(secret)}`),
        HttpClientRequest.acceptJson
      )
      if (body !== undefined) request = HttpClientRequest.setBody(request, HttpBody.unsafeJson(body))
      const decode = Schema.decodeUnknownEither(Schema.parseJson(schema))
      const attempt = client.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => fail("timeout", null, `OpenRouter did not answer ${what} within ${Duration.format(timeout)}`)
        }),
        Effect.catchTag("RequestError", "ResponseError", (e) =>
          Effect.fail(fail("unreachable", null, `OpenRouter unreachable (${what}): ${e.reason}`))),
        Effect.flatMap(({ status, text }) => {
          if (status >= 200 && status < 300) {
            return Either.match(decode(text), {
              onLeft: () => Effect.fail(fail("bad-response", status, `OpenRouter answered ${what} with an unexpected body`)),
              onRight: Effect.succeed
            })
          }
          const said = Either.match(decodeErrorBody(text), {
            onLeft: () => text.trim().replace(/\s+/g, " ").slice(0, 160),
            onRight: (b) => b.error.message.slice(0, 200)
          })
          const reason = status === 401 || status === 403
            ? "unauthorized"
            : status === 429 || status >= 500
            ? "server"
            : "rejected"
          return Effect.fail(fail(reason, status, `OpenRouter answered ${what} with ${status}${said === "" ? "" : `: ${said}`}`))
        })
      )
      if (method === "POST") return attempt
      return attempt.pipe(
        Effect.retry({
          while: (e) => e.reason === "unreachable" || e.reason === "timeout" || e.reason === "server",
          schedule: Schedule.exponential(options.backoff ?? Duration.millis(500)).pipe(
            Schedule.jittered,
            Schedule.intersect(Schedule.recurs(retries))
          )
        })
      )
    }

    const listDestinations = Effect.gen(function*() {
      const all: Array<Destination> = []
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = yield* call("management", "GET", `/observability/destinations?offset=${all.length}&limit=${PAGE}`, DestinationsResponse)
        all.push(...r.data)
        const total = r.total_count ?? undefined
        if (r.data.length < PAGE || (total !== undefined && all.length >= total)) break
      }
      return all
    })

    return {
      baseUrl: base,
      hasManagementKey: options.managementKey !== undefined,
      hasApiKey: options.apiKey !== undefined,
      activity: (date, hash) =>
        call(
          "management",
          "GET",
          `/activity?date=${encodeURIComponent(date)}&api_key_hash=${encodeURIComponent(hash)}`,
          ActivityResponse
        ).pipe(Effect.map((r) => r.data)),
      currentKey: call("api", "GET", "/key", CurrentKeyResponse).pipe(Effect.map((r) => r.data)),
      listKeys: call("management", "GET", "/keys", KeysResponse).pipe(Effect.map((r) => r.data)),
      listDestinations,
      createDestination: (body) =>
        call("management", "POST", "/observability/destinations", DestinationResponse, { ...body, type: "webhook" }).pipe(
          Effect.map((r) => r.data)
        ),
      updateDestination: (id, body) =>
        call("management", "PATCH", `/observability/destinations/${encodeURIComponent(id)}`, DestinationResponse, body).pipe(
          Effect.map((r) => r.data)
        )
    }
  })

export const layerWith = (options: Partial<Pick<OpenRouterApiOptions, "timeout" | "retries" | "backoff">> = {}) =>
  Layer.effect(
    OpenRouterApi,
    Effect.flatMap(AppConfig, (c) =>
      make({
        apiUrl: c.openRouter.apiUrl,
        managementKey: c.openRouter.managementKey,
        apiKey: c.openRouterApiKey,
        ...options
      }))
  ).pipe(Layer.provide(FetchHttpClient.layer))

/** From the configuration: OPENROUTER_API_URL, OPENROUTER_MANAGEMENT_KEY, OPENROUTER_API_KEY. */
export const layer = layerWith()
