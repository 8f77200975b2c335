/**
 * A typed client of one app, from the contract alone (the reseller's console uses it). The app
 * answers every API error as `{"error": "one line"}` with the error's status; the contract's
 * errors are tagged classes. `taggedErrorBodies` reads the first as the second, by status, so a
 * caller gets `Unauthorized`, `InvalidQuery`, `Conflict`… as values, never a parse error.
 */
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, FiberRef } from "effect"
import { MaiApi } from "./Api.js"

/** The tag of the contract's error each status stands for (a bearer client never sees CrossOriginRefused). */
const TAG_OF_STATUS: Record<number, string> = {
  400: "InvalidQuery",
  401: "Unauthorized",
  403: "CrossOriginRefused",
  404: "NotFound",
  409: "Conflict",
  503: "Unavailable"
}

const asTagged = (status: number, body: unknown): unknown => {
  if (typeof body !== "object" || body === null || !("error" in body) || "_tag" in body) return body
  const { error, ...rest } = body as { error: unknown }
  // A failed batch request carries its per-day results beside the message.
  const tag = status === 503 && "results" in rest ? "BatchRunsFailed" : TAG_OF_STATUS[status]
  return tag === undefined ? body : { _tag: tag, message: String(error), ...rest }
}

/** Error answers as the contract's tagged errors (successful answers pass untouched). */
export const taggedErrorBodies = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, (response) =>
    Effect.flatMap(response, (res) => {
      if (res.status < 400 || !(res.headers["content-type"] ?? "").includes("json")) return Effect.succeed(res)
      return Effect.map(
        Effect.orElseSucceed(res.json, () => undefined),
        (body) => {
          const headers = new Headers(Object.entries(res.headers))
          return HttpClientResponse.fromWeb(res.request, new Response(JSON.stringify(asTagged(res.status, body)), { status: res.status, headers }))
        }
      )
    }))

/** The app at `baseUrl` with its admin token, as a typed client (needs an `HttpClient`). */
export const makeClient = (baseUrl: string, adminToken: string) =>
  HttpApiClient.make(MaiApi, {
    baseUrl,
    transformClient: (client) => taggedErrorBodies(HttpClient.mapRequest(client, HttpClientRequest.bearerToken(adminToken)))
  })

/** The app a call of `makeAppsClient`'s client goes to: set around each call with `Effect.locally`. */
export const AppTarget = FiberRef.unsafeMake<{ readonly baseUrl: string; readonly adminToken: string } | undefined>(undefined)

/**
 * One typed client for many apps (the reseller's console): built once, since building a client
 * reflects the whole contract, and pointed at an app per call (`Effect.locally(call, AppTarget,
 * { baseUrl, adminToken })`). A call without a target fails as a request error.
 */
export const makeAppsClient = HttpApiClient.make(MaiApi, {
  transformClient: (client) =>
    taggedErrorBodies(HttpClient.mapRequestEffect(client, (request) =>
      Effect.flatMap(FiberRef.get(AppTarget), (target) =>
        target === undefined
          ? Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", description: "no app chosen for this call" }))
          : Effect.succeed(HttpClientRequest.bearerToken(HttpClientRequest.prependUrl(request, target.baseUrl), target.adminToken))
      )))
})
