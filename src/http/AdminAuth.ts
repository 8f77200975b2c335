/**
 * Admin authentication for the API and the dashboard: `Authorization: Bearer <ADMIN_TOKEN>`, or
 * the dashboard's session cookie (a random session id, see `Sessions.ts`).
 *
 * A state-changing request (anything but GET, HEAD, OPTIONS) that authenticates with the cookie
 * must come from the dashboard's own origin: its `Origin` (or, when a browser sends none, its
 * `Referer`) must equal the origin the request was addressed to. SameSite=Strict alone is not
 * enough: every port of one host is the same *site*, so a page served from another port (another
 * client's container) could auto-post a form with our cookie. A bearer request needs no such
 * check: a browser never adds that header on its own.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Request from "@effect/platform/HttpServerRequest"
import { Effect, Layer } from "effect"
import { AppConfig, type AppSettings } from "../platform/Config.js"
import { configuredMatcher } from "../platform/Secrets.js"
import { AdminAuth } from "../api/AdminAuth.js"
import { CrossOriginRefused, Unauthorized } from "../api/ApiErrors.js"
import { Sessions } from "./Sessions.js"

/**
 * The session cookie's name, per client: containers of several clients on one host share the
 * browser's cookie jar for that host (cookies ignore ports), so each needs its own name.
 */
export const sessionCookieName = (config: Pick<AppSettings, "clientOrgId" | "port">) =>
  `mai_session_${config.clientOrgId.replace(/[^A-Za-z0-9_-]/g, "_")}_${config.port}`

const firstOf = (header: string | undefined) => header?.split(",")[0].trim()

/** The request arrived over HTTPS at a proxy in front of us (`X-Forwarded-Proto: https`). */
export const isHttps = (request: HttpServerRequest.HttpServerRequest) =>
  firstOf(request.headers["x-forwarded-proto"])?.toLowerCase() === "https"

/**
 * The origin the browser addressed: scheme from `X-Forwarded-Proto` (else http), host from
 * `X-Forwarded-Host` (else `Host`). A cross-origin page cannot set either header on a form post.
 */
export const ownOrigin = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const host = firstOf(request.headers["x-forwarded-host"]) || request.headers["host"]
  if (host === undefined || host === "") return undefined
  try {
    return new URL(`${isHttps(request) ? "https" : "http"}://${host}`).origin
  } catch {
    return undefined
  }
}

const originOf = (value: string) => {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}

/**
 * True when the request says it comes from our own origin. `Origin: null` (an opaque origin,
 * or a page whose referrer policy hides it) and a request with neither header are refused.
 */
export const fromOwnOrigin = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const own = ownOrigin(request)
  if (own === undefined) return false
  const origin = request.headers["origin"]
  if (origin !== undefined) return origin !== "null" && originOf(origin) === own
  const referer = request.headers["referer"]
  return referer !== undefined && originOf(referer) === own
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

export type Via = "bearer" | "session"

const unauthorized = (message: string) => Effect.fail(new Unauthorized({ message }))

/**
 * Who a request is: a bearer admin token or a live dashboard session (and, for a state change by
 * cookie, from the dashboard's own origin). Reads the process's `Sessions`, which the wiring
 * provides once (the dashboard's login writes the same store).
 */
export class AdminAccess extends Effect.Service<AdminAccess>()("mai-usage/AdminAccess", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const sessions = yield* Sessions
    // Constant-time, against every configured admin token (Secrets.ts).
    const isAdmin = configuredMatcher(config.adminTokens)
    const cookieName = sessionCookieName(config)
    /** Who the request is, or why not; updates the session's last activity. */
    const check = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Via, Unauthorized | CrossOriginRefused> => {
      // Only the Bearer scheme is ours: a proxy's Basic credentials pass through untouched.
      const authorization = request.headers["authorization"]?.trim() ?? ""
      if (/^bearer(\s|$)/i.test(authorization)) {
        return isAdmin(authorization.slice(6).trim())
          ? Effect.succeed("bearer")
          : unauthorized("the bearer token is not a valid admin token")
      }
      const id = request.cookies[cookieName] ?? ""
      if (id === "") return unauthorized("admin authentication required: Authorization: Bearer <ADMIN_TOKEN>, or log in on the dashboard")
      return Effect.flatMap(sessions.resume(id), (alive): Effect.Effect<Via, Unauthorized | CrossOriginRefused> => {
        if (!alive) return unauthorized("the dashboard session has ended; log in again")
        if (!SAFE_METHODS.has(request.method) && !fromOwnOrigin(request)) {
          return Effect.fail(
            new CrossOriginRefused({
              message: "refused: a state-changing request with the dashboard's session cookie must come from the dashboard's own page"
            })
          )
        }
        return Effect.succeed("session")
      })
    }
    return { check, cookieName, isAdminToken: isAdmin }
  })
}) {}

/** The API's middleware: every group declared with `.middleware(AdminAuth)` goes through `check`. */
export const layer = Layer.effect(
  AdminAuth,
  Effect.map(AdminAccess, (access) =>
    AdminAuth.of({
      bearer: () => Effect.flatMap(Request.HttpServerRequest, (request) => Effect.asVoid(access.check(request)))
    }))
)

/** Access and the sessions it reads, as one layer for the composition root. */
export const AccessLive = AdminAccess.Default.pipe(Layer.provideMerge(Sessions.Default))
