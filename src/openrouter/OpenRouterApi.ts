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
import { Duration, Effect, Either, Redacted, Schedule, Schema } from "effect"
import { AppConfig } from "../platform/Config.js"
import { outboundClient, textRequest, unreachableReason } from "../platform/TextRequest.js"

export class OpenRouterError extends Schema.TaggedError<OpenRouterError>()("OpenRouterError", {
  reason: Schema.Literal("not-configured", "unreachable", "timeout", "unauthorized", "rejected", "server", "bad-response"),
  status: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

// ---- response shapes (OpenRouter's API reference; snake_case as on the wire) --------------------

/** Fields OpenRouter may leave out or send as null. */
const maybe = <F extends Record<string, Schema.Schema.All>>(fields: F) =>
  Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, Schema.optional(Schema.NullOr(s))])) as {
    readonly [K in keyof F]: Schema.optional<Schema.NullOr<F[K]>>
  }
/** OpenRouter's answers wrap their payload in `{ "data": … }`. */
const inData = <S extends Schema.Schema.Any>(schema: S) => Schema.Struct({ data: schema })

/** One row of `GET /activity`: a (date, model, endpoint) of the key's completed UTC day. */
export const ActivityItem = Schema.Struct({
  date: Schema.String,
  model: Schema.String,
  /** USD of OpenRouter credits spent */
  usage: Schema.Number,
  requests: Schema.Number,
  ...maybe({
    model_permaslug: Schema.String, endpoint_id: Schema.String, provider_name: Schema.String, byok_usage_inference: Schema.Number,
    prompt_tokens: Schema.Number, completion_tokens: Schema.Number, reasoning_tokens: Schema.Number
  })
})

/** `GET /key`: the calling key. `usage` is cumulative USD, `usage_daily` the current UTC day's. */
/** `GET /generation?id=…`'s data: OpenRouter's own record of one request (what a pending cost is filled from). */
export const Generation = Schema.Struct({ id: Schema.String, total_cost: Schema.Number })
export type Generation = typeof Generation.Type

export const CurrentKey = Schema.Struct({ usage: Schema.Number, usage_daily: Schema.Number, ...maybe({ label: Schema.String }) })

/** One key of `GET /keys` (management key). */
export const ApiKeyInfo = Schema.Struct({
  hash: Schema.String,
  ...maybe({
    name: Schema.String,
    label: Schema.String,
    disabled: Schema.Boolean,
    /** USD; null: no limit */
    limit: Schema.Number,
    /** the limit's period: daily, weekly, monthly (UTC), or null (never resets) */
    limit_reset: Schema.String,
    usage: Schema.Number,
    usage_daily: Schema.Number,
    usage_weekly: Schema.Number,
    usage_monthly: Schema.Number
  })
})

/** A Broadcast (observability) destination; `config` depends on `type` (webhook: url, method, headers). */
export const Destination = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  privacy_mode: Schema.Boolean,
  sampling_rate: Schema.Number,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  ...maybe({
    api_key_hashes: Schema.Array(Schema.String),
    /** cost and billing metadata on the spans; OpenRouter's default is false */
    broadcast_generation_cost: Schema.Boolean,
    /** structured rules on which events are forwarded; null: all */
    filter_rules: Schema.Unknown,
    workspace_id: Schema.String
  })
})
const DestinationsPage = Schema.Struct({ data: Schema.Array(Destination), ...maybe({ total_count: Schema.Number }) })

export type ActivityItem = typeof ActivityItem.Type
export type CurrentKey = typeof CurrentKey.Type
export type ApiKeyInfo = typeof ApiKeyInfo.Type
export type Destination = typeof Destination.Type

/** The webhook type's config. */
export const WebhookConfig = Schema.Struct({
  url: Schema.String,
  ...maybe({ method: Schema.String, headers: Schema.Record({ key: Schema.String, value: Schema.String }) })
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
  /** always true: without it spans may carry no cost */
  readonly broadcast_generation_cost: true
  /** always null: any rule drops some requests */
  readonly filter_rules: null
  readonly config: { readonly url: string; readonly method: "POST"; readonly headers: Record<string, string> }
}

export interface OpenRouterApiShape {
  readonly baseUrl: string
  readonly hasManagementKey: boolean
  readonly hasApiKey: boolean
  /** `GET /activity?date=D&api_key_hash=H` (management key) */
  readonly activity: (date: string, apiKeyHash: string) => Effect.Effect<ReadonlyArray<ActivityItem>, OpenRouterError>
  /** `GET /generation?id=…` with OPENROUTER_API_KEY, else the management key */
  readonly generation: (id: string) => Effect.Effect<Generation, OpenRouterError>
  /** `GET /key` with OPENROUTER_API_KEY */
  readonly currentKey: Effect.Effect<CurrentKey, OpenRouterError>
  /** `GET /keys` (management key) */
  readonly listKeys: Effect.Effect<ReadonlyArray<ApiKeyInfo>, OpenRouterError>
  /** `PATCH /keys/{hash}` with `limit` (USD; null lifts it) (management key) */
  readonly setKeyLimit: (hash: string, limitUsd: number | null) => Effect.Effect<ApiKeyInfo, OpenRouterError>
  /** every destination of the workspace, all pages */
  readonly listDestinations: Effect.Effect<ReadonlyArray<Destination>, OpenRouterError>
  readonly createDestination: (body: DestinationBody) => Effect.Effect<Destination, OpenRouterError>
  readonly updateDestination: (id: string, body: DestinationBody) => Effect.Effect<Destination, OpenRouterError>
}

export interface OpenRouterApiOptions {
  readonly apiUrl: string
  readonly managementKey: Redacted.Redacted<string> | undefined
  readonly apiKey: Redacted.Redacted<string> | undefined
  /** per attempt; default 10 s */
  readonly timeout?: Duration.DurationInput
  /** retries after the first attempt; default 3 */
  readonly retries?: number
  /** OPENROUTER_WORKSPACE_ID: destinations are listed and created in it; unset → the default workspace */
  readonly workspaceId?: string | undefined
  /** first back-off delay, doubled each retry (jittered); default 500 ms */
  readonly backoff?: Duration.DurationInput
}

const ErrorBody = Schema.Struct({ error: Schema.Struct({ message: Schema.String }) })
const decodeErrorBody = Schema.decodeUnknownEither(Schema.parseJson(ErrorBody))

type Key = "management" | "api" | "any"
type Method = "GET" | "POST" | "PATCH"

const PAGE = 100
const MAX_PAGES = 20

/** The client for given options (the service below takes them from the configuration). */
export const make = (options: OpenRouterApiOptions): Effect.Effect<OpenRouterApiShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* outboundClient
    const base = options.apiUrl.replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(10))
    const retries = options.retries ?? 3
    const secrets = [options.managementKey, options.apiKey].filter((k) => k !== undefined).map(Redacted.value)
    /** Defence in depth: whatever text came back, no key of ours leaves this module. */
    const scrub = (text: string) => secrets.reduce((t, s) => (s === "" ? t : t.split(s).join("***")), text)

    const fail = (reason: OpenRouterError["reason"], status: number | null, message: string) =>
      new OpenRouterError({ reason, status, message: scrub(message) })

    /** One call, its whole JSON body decoded with `schema`. */
    const call = <A, I>(key: Key, method: Method, path: string, schema: Schema.Schema<A, I>, body?: unknown): Effect.Effect<A, OpenRouterError> => {
      const secret = key === "management" ? options.managementKey : key === "api" ? options.apiKey : options.apiKey ?? options.managementKey
      const what = `${method} ${path.split("?")[0]}`
      if (secret === undefined) {
        return Effect.fail(fail(
          "not-configured",
          null,
          key === "management"
            ? `OPENROUTER_MANAGEMENT_KEY is not set (needed for ${what})`
            : key === "api"
            ? `OPENROUTER_API_KEY is not set (needed for ${what})`
            : `neither OPENROUTER_API_KEY nor OPENROUTER_MANAGEMENT_KEY is set (needed for ${what})`
        ))
      }
      let request = HttpClientRequest.make(method)(`${base}${path}`).pipe(
        HttpClientRequest.setHeader("authorization", `Bearer ${Redacted.value(secret)}`),
        HttpClientRequest.acceptJson
      )
      if (body !== undefined) request = HttpClientRequest.setBody(request, HttpBody.unsafeJson(body))
      const decode = Schema.decodeUnknownEither(Schema.parseJson(schema))
      const attempt = textRequest(client, request, {
        timeout,
        onTimeout: () => fail("timeout", null, `OpenRouter did not answer ${what} within ${Duration.format(timeout)}`),
        onUnreachable: (e) => fail("unreachable", null, `OpenRouter unreachable (${what}): ${unreachableReason(e)}`)
      }).pipe(
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
    /** One call whose answer is `{ "data": <schema> }`: the data. */
    const data = <A, I>(key: Key, method: Method, path: string, schema: Schema.Schema<A, I>, body?: unknown) =>
      Effect.map(call(key, method, path, inData(schema), body), (r) => r.data)

    const inWorkspace = options.workspaceId === undefined ? "" : `&workspace_id=${encodeURIComponent(options.workspaceId)}`
    const listDestinations = Effect.gen(function*() {
      const all: Array<Destination> = []
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = yield* call("management", "GET", `/observability/destinations?offset=${all.length}&limit=${PAGE}${inWorkspace}`, DestinationsPage)
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
        data(
          "management",
          "GET",
          `/activity?date=${encodeURIComponent(date)}&api_key_hash=${encodeURIComponent(hash)}`,
          Schema.Array(ActivityItem)
        ),
      generation: (id) => data("any", "GET", `/generation?id=${encodeURIComponent(id)}`, Generation),
      currentKey: data("api", "GET", "/key", CurrentKey),
      listKeys: data("management", "GET", "/keys", Schema.Array(ApiKeyInfo)),
      setKeyLimit: (hash, limitUsd) => data("management", "PATCH", `/keys/${encodeURIComponent(hash)}`, ApiKeyInfo, { limit: limitUsd }),
      listDestinations,
      createDestination: (body) =>
        data("management", "POST", "/observability/destinations", Destination, {
          ...body,
          type: "webhook",
          ...(options.workspaceId === undefined ? {} : { workspace_id: options.workspaceId })
        }),
      updateDestination: (id, body) =>
        data("management", "PATCH", `/observability/destinations/${encodeURIComponent(id)}`, Destination, body)
    }
  })

/** From the configuration: OPENROUTER_API_URL, OPENROUTER_MANAGEMENT_KEY, OPENROUTER_API_KEY. */
export class OpenRouterApi extends Effect.Service<OpenRouterApi>()("mai-usage/OpenRouterApi", {
  effect: Effect.flatMap(AppConfig, (c) =>
    make({ apiUrl: c.openRouter.apiUrl, managementKey: c.openRouter.managementKey, apiKey: c.openRouterApiKey, workspaceId: c.openRouter.workspaceId })),
  dependencies: [FetchHttpClient.layer]
}) {}
