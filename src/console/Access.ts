/**
 * The console's doors, as the app's: its own token (`CONSOLE_ADMIN_TOKEN`) as a bearer or through
 * the login form, which starts a server-side session (`http/Sessions.ts`: the cookie holds a random
 * id, never the token), failed logins slowed per address (`dashboard/LoginThrottle.ts`), and every
 * state change made with the cookie accepted only from the console's own page (`fromOwnOrigin`).
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect } from "effect"
import { CrossOriginRefused, Unauthorized } from "../api/ApiErrors.js"
import { fromOwnOrigin } from "../http/AdminAuth.js"
import { makeSessions } from "../http/Sessions.js"
import { makeLoginThrottle } from "../dashboard/LoginThrottle.js"
import { configuredMatcher } from "../platform/Secrets.js"
import { ConsoleConfig } from "./ConsoleConfig.js"

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

export class ConsoleAccess extends Effect.Service<ConsoleAccess>()("mai-usage/console/Access", {
  effect: Effect.gen(function*() {
    const config = yield* ConsoleConfig
    const isToken = configuredMatcher(config.adminTokens)
    const sessions = makeSessions()
    const throttle = makeLoginThrottle()
    // Per port: consoles (and the clients' dashboards) on one host share the browser's cookie jar.
    const cookieName = `mai_console_session_${config.port}`

    const check = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<"bearer" | "session", Unauthorized | CrossOriginRefused> => {
      const authorization = request.headers["authorization"]?.trim() ?? ""
      if (/^bearer(\s|$)/i.test(authorization)) {
        return isToken(authorization.slice(6).trim())
          ? Effect.succeed("bearer")
          : Effect.fail(new Unauthorized({ message: "the bearer token is not the console's admin token" }))
      }
      const id = request.cookies[cookieName] ?? ""
      if (id === "") return Effect.fail(new Unauthorized({ message: "log in to the console first (or Authorization: Bearer <CONSOLE_ADMIN_TOKEN>)" }))
      return Effect.flatMap(sessions.resume(id), (alive): Effect.Effect<"session", Unauthorized | CrossOriginRefused> => {
        if (!alive) return Effect.fail(new Unauthorized({ message: "the console session has ended; log in again" }))
        if (!SAFE_METHODS.has(request.method) && !fromOwnOrigin(request)) {
          return Effect.fail(new CrossOriginRefused({ message: "refused: a state change with the console's cookie must come from the console's own page" }))
        }
        return Effect.succeed("session" as const)
      })
    }

    return { check, cookieName, isToken, sessions, throttle } as const
  })
}) {}
