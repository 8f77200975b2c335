/**
 * Admin authentication for the API and the dashboard: `Authorization: Bearer <ADMIN_TOKEN>`,
 * or the HttpOnly cookie the dashboard's login form sets.
 */
import { HttpApiError, HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
import * as Crypto from "node:crypto"
import { AppConfig } from "../Config.js"

export const ADMIN_COOKIE = "mai_admin"

export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: HttpApiError.Unauthorized,
  security: {
    bearer: HttpApiSecurity.bearer,
    cookie: HttpApiSecurity.apiKey({ in: "cookie", key: ADMIN_COOKIE })
  }
}) {}

const digest = (s: string) => Crypto.createHash("sha256").update(s).digest()

/** Constant-time check of a presented token against the configured admin tokens. */
export const isAdminToken = (tokens: ReadonlyArray<Redacted.Redacted<string>>) => {
  const digests = tokens.map((t) => digest(Redacted.value(t)))
  return (candidate: string): boolean => {
    if (candidate === "") return false
    const d = digest(candidate)
    let ok = false
    for (const t of digests) ok = Crypto.timingSafeEqual(d, t) || ok
    return ok
  }
}

export const layer = Layer.effect(
  AdminAuth,
  Effect.map(AppConfig, (config) => {
    const check = isAdminToken(config.adminTokens)
    const verify = (token: Redacted.Redacted<string>) =>
      check(Redacted.value(token)) ? Effect.void : Effect.fail(new HttpApiError.Unauthorized())
    return AdminAuth.of({ bearer: verify, cookie: verify })
  })
)
