/**
 * The dashboard and the API's documentation, as plain routes beside the API: `GET /`,
 * the login and logout form posts, `/docs`, `/api/v1/openapi.json` and the page's own assets.
 * Nothing is loaded from elsewhere: a Content-Security-Policy of 'self' makes the browser refuse it.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import * as Fs from "node:fs"
import { assetPath } from "../Assets.js"
import { AppConfig } from "../Config.js"
import { ADMIN_COOKIE, isAdminToken } from "../http/AdminAuth.js"
import { dashboardPage, docsPage, loginPage, statementPage } from "./Pages.js"

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'"
].join("; ")

const pageHeaders = {
  "content-security-policy": CSP,
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
}

const htmlResponse = (body: string, status = 200) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8", headers: pageHeaders })

const asset = (file: string, contentType: string) => {
  // Read once at start: the assets ship with the code and never change while it runs.
  const body = Fs.readFileSync(assetPath(`dashboard/assets/${file}`), "utf8")
  return HttpServerResponse.text(body, {
    contentType,
    headers: { "cache-control": "no-cache", "x-content-type-options": "nosniff" }
  })
}

const LoginForm = Schema.Struct({ token: Schema.optionalWith(Schema.String, { default: () => "" }) })

/** Seen over HTTPS through a proxy: the cookie is then marked Secure. */
const isHttps = (request: HttpServerRequest.HttpServerRequest) =>
  (request.headers["x-forwarded-proto"] ?? "").split(",")[0].trim().toLowerCase() === "https"

const pad = (n: number) => String(n).padStart(2, "0")

export const DashboardRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const isAdmin = isAdminToken(config.adminTokens)
    const js = asset("dashboard.js", "text/javascript; charset=utf-8")
    const css = asset("dashboard.css", "text/css; charset=utf-8")
    const docsJs = asset("docs.js", "text/javascript; charset=utf-8")
    const accountingJs = asset("accounting.js", "text/javascript; charset=utf-8")
    const accountingCss = asset("accounting.css", "text/css; charset=utf-8")
    const statementJs = asset("statement.js", "text/javascript; charset=utf-8")
    const reconciliationJs = asset("reconciliation.js", "text/javascript; charset=utf-8")

    /** The month of yesterday in the batch's time zone: the newest day that can be billed. */
    const defaultMonth = Effect.map(DateTime.now, (now) => {
      const parts = DateTime.toParts(
        DateTime.subtract(DateTime.unsafeMakeZoned(now, { timeZone: config.dailyBatchTimeZone }), { days: 1 })
      )
      return `${parts.year}-${pad(parts.month)}`
    })

    const loggedIn = Effect.map(
      HttpServerRequest.HttpServerRequest,
      (request) => isAdmin(request.cookies[ADMIN_COOKIE] ?? "")
    )

    yield* router.get(
      "/",
      Effect.gen(function*() {
        if (!(yield* loggedIn)) return htmlResponse(loginPage({ clientOrgId: config.clientOrgId }))
        return htmlResponse(dashboardPage({
          clientOrgId: config.clientOrgId,
          defaultMonth: yield* defaultMonth,
          timeZone: config.dailyBatchTimeZone,
          batchTime: `${pad(config.dailyBatchTime.hour)}:${pad(config.dailyBatchTime.minute)}`,
          batchEnabled: config.dailyBatchEnabled
        }))
      })
    )

    yield* router.post(
      "/login",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const form = yield* HttpServerRequest.schemaBodyUrlParams(LoginForm).pipe(Effect.option)
        const token = Option.match(form, { onNone: () => "", onSome: (f) => f.token.trim() })
        if (!isAdmin(token)) {
          // A pause makes guessing slow; the token itself is compared in constant time.
          yield* Effect.sleep("300 millis")
          return htmlResponse(
            loginPage({
              clientOrgId: config.clientOrgId,
              error: token === "" ? "Enter the admin token." : "That admin token is not valid. Nothing was saved; try again."
            }),
            401
          )
        }
        return HttpServerResponse.redirect("/", { status: 303, headers: { "cache-control": "no-store" } }).pipe(
          HttpServerResponse.unsafeSetCookie(ADMIN_COOKIE, token, {
            httpOnly: true,
            sameSite: "strict",
            path: "/",
            secure: isHttps(request)
          })
        )
      })
    )

    yield* router.post(
      "/logout",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        return HttpServerResponse.redirect("/", { status: 303, headers: { "cache-control": "no-store" } }).pipe(
          HttpServerResponse.expireCookie(ADMIN_COOKIE, {
            httpOnly: true,
            sameSite: "strict",
            path: "/",
            secure: isHttps(request)
          })
        )
      })
    )

    yield* router.get("/docs", Effect.succeed(htmlResponse(docsPage())))
    yield* router.get("/assets/dashboard.js", Effect.succeed(js))
    yield* router.get("/assets/dashboard.css", Effect.succeed(css))
    yield* router.get("/assets/docs.js", Effect.succeed(docsJs))
    // Accounting: the panel on the dashboard and the printable statement (its data comes from the API).
    yield* router.get("/statement", Effect.succeed(htmlResponse(statementPage())))
    yield* router.get("/assets/accounting.js", Effect.succeed(accountingJs))
    yield* router.get("/assets/accounting.css", Effect.succeed(accountingCss))
    yield* router.get("/assets/statement.js", Effect.succeed(statementJs))
    yield* router.get("/assets/reconciliation.js", Effect.succeed(reconciliationJs))
  })
)

/** The dashboard, `/docs` and the OpenAPI description of `MaiApi`. */
export const DashboardLive = Layer.mergeAll(
  DashboardRoutes,
  HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })
)
