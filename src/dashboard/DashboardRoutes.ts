/**
 * The dashboard and the API's documentation, as plain routes beside the API: `GET /`,
 * the login and logout form posts, `/docs`, `/api/v1/openapi.json` and the page's own assets.
 * Nothing is loaded from elsewhere: a Content-Security-Policy of 'self' makes the browser refuse it.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as OpenApi from "@effect/platform/OpenApi"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, DateTime, Effect, Either, Layer, Option, Schema } from "effect"
import * as Fs from "node:fs"
import { assetPath } from "../platform/Assets.js"
import { AppConfig } from "../platform/Config.js"
import { AdminAccess, fromOwnOrigin, isHttps } from "../http/AdminAuth.js"
import { Sessions } from "../http/Sessions.js"
import { LOGIN_BODY_LIMIT } from "../http/BodyLimits.js"
import { makeLoginThrottle } from "./LoginThrottle.js"
import { dashboardPage, docsPage, label, LANG_COOKIE, type Lang, loginPage, secondsText, statementPage } from "./Pages.js"

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'"
].join("; ")

/** The headers of every page (the console's too). */
export const pageHeaders = {
  "content-security-policy": CSP,
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // Not "no-referrer": with it a browser sends `Origin: null` on the page's own form posts, and
  // the same-origin check of state-changing requests needs the real origin.
  "referrer-policy": "same-origin"
}

const htmlResponse = (body: string, status = 200) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8", headers: pageHeaders })

/** What the pages load from /assets/ (Pages.ts names them): the scripts by job, the style sheets. */
const ASSETS = [
  "locale.js",
  "dom.js",
  "api.js",
  "tables.js",
  "chart.js",
  "dashboard.js",
  "accounting.js",
  "reconciliation.js",
  "statement.js",
  "docs.js",
  "dashboard.css",
  "accounting.css",
  "people.js",
  "budgets.js",
  "budgets.css"
] as const

/** A response made on first use, then kept: what only a visitor needs costs an idle server nothing. */
const onFirstUse = <E>(make: () => Effect.Effect<HttpServerResponse.HttpServerResponse, E>) => {
  let made: HttpServerResponse.HttpServerResponse | undefined
  return Effect.suspend(() => (made === undefined ? Effect.tap(make(), (r) => void (made = r)) : Effect.succeed(made)))
}

// Read on first request, then kept: the assets ship with the code and never change while it runs.
const asset = (file: string) =>
  onFirstUse(() =>
    Effect.sync(() =>
      HttpServerResponse.text(Fs.readFileSync(assetPath(`dashboard/assets/${file}`), "utf8"), {
        contentType: file.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
        headers: { "cache-control": "no-cache", "x-content-type-options": "nosniff" }
      })
    )
  )

const LoginForm = Schema.Struct({ token: Schema.optionalWith(Schema.String, { default: () => "" }) })

const pad = (n: number) => String(n).padStart(2, "0")

/** `?lang=` of the request when it names a language. */
const askedLang = (request: HttpServerRequest.HttpServerRequest): Lang | undefined => {
  const asked = new URL(request.url, "http://x").searchParams.get("lang")
  return asked === "en" || asked === "pl" ? asked : undefined
}
/** Polish unless asked otherwise: `?lang=en` (remembered in a cookie by the dashboard) or that cookie. */
const pageLang = (request: HttpServerRequest.HttpServerRequest): Lang =>
  askedLang(request) ?? (request.cookies[LANG_COOKIE] === "en" ? "en" : "pl")

export const DashboardRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const access = yield* AdminAccess
    const sessions = yield* Sessions
    const throttle = makeLoginThrottle()
    const assets = ASSETS.map((file) => [file, asset(file)] as const)

    /** The month of yesterday in the batch's time zone: the newest day that can be billed. */
    const defaultMonth = Effect.map(DateTime.now, (now) => {
      const parts = DateTime.toParts(
        DateTime.subtract(DateTime.unsafeMakeZoned(now, { timeZone: config.dailyBatchTimeZone }), { days: 1 })
      )
      return `${parts.year}-${pad(parts.month)}`
    })

    const loggedIn = Effect.flatMap(
      HttpServerRequest.HttpServerRequest,
      (request) => Effect.isSuccess(access.check(request))
    )

    const cookieOptions = (request: HttpServerRequest.HttpServerRequest) => ({
      httpOnly: true,
      sameSite: "strict" as const,
      path: "/",
      // Behind an HTTPS proxy (X-Forwarded-Proto: https) the cookie never travels over plain HTTP.
      secure: isHttps(request)
    })
    const noStore = { "cache-control": "no-store" }
    const loginAgain = (lang: Lang, error: string, status: number, headers: Record<string, string> = {}) =>
      htmlResponse(loginPage({ clientOrgId: config.clientOrgId, error, lang }), status).pipe(
        HttpServerResponse.setHeaders(headers)
      )
    /** A form posted from another origin (another port of this host, another site). */
    const crossOrigin = (lang: Lang) => loginAgain(lang, label(lang, "login.crossOrigin"), 403)

    yield* router.get(
      "/",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const lang = pageLang(request)
        if (!(yield* loggedIn)) return htmlResponse(loginPage({ clientOrgId: config.clientOrgId, lang }))
        const asked = askedLang(request)
        const page = htmlResponse(dashboardPage({
          lang,
          clientOrgId: config.clientOrgId,
          defaultMonth: yield* defaultMonth,
          timeZone: config.dailyBatchTimeZone,
          batchTime: `${pad(config.dailyBatchTime.hour)}:${pad(config.dailyBatchTime.minute)}`,
          batchEnabled: config.dailyBatchEnabled
        }))
        return asked === lang
          ? HttpServerResponse.unsafeSetCookie(page, LANG_COOKIE, lang, { path: "/", sameSite: "strict", maxAge: "365 days" })
          : page
      })
    )

    const tooMany = (lang: Lang, seconds: number) =>
      loginAgain(
        lang,
        label(lang, "login.tooMany", { seconds: secondsText(lang, seconds) }),
        429,
        { "retry-after": String(seconds), connection: "close" }
      )

    yield* router.post(
      "/login",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        // The English login form posts to `/login?lang=en`.
        const lang = pageLang(request)
        // No session is needed to log in, but a login forced from another origin is refused too.
        if ((request.headers["origin"] !== undefined || request.headers["referer"] !== undefined) && !fromOwnOrigin(request)) {
          return crossOrigin(lang)
        }
        const address = Option.getOrElse(request.remoteAddress, () => "unknown")
        // A locked address is answered before its body is read.
        const wait = throttle.locked(address, yield* Clock.currentTimeMillis)
        if (wait !== undefined) return tooMany(lang, wait)
        const form = yield* HttpServerRequest.schemaBodyUrlParams(LoginForm).pipe(
          HttpServerRequest.withMaxBodySize(Option.some(LOGIN_BODY_LIMIT)),
          Effect.either
        )
        if (Either.isLeft(form)) {
          return loginAgain(lang, label(lang, "login.unreadable"), 400, { connection: "close" })
        }
        const token = form.right.token.trim()
        const outcome = throttle.attempt(address, yield* Clock.currentTimeMillis, () => access.isAdminToken(token))
        switch (outcome._tag) {
          case "Locked":
            return tooMany(lang, outcome.retryAfterSeconds)
          case "Refused":
            return loginAgain(lang, label(lang, token === "" ? "login.empty" : "login.invalid"), 401)
          case "Accepted": {
            const id = yield* sessions.start
            // After the English form, the English dashboard (which remembers the choice).
            const asked = askedLang(request)
            return HttpServerResponse.redirect(asked === undefined ? "/" : `/?lang=${asked}`, { status: 303, headers: noStore }).pipe(
              HttpServerResponse.unsafeSetCookie(access.cookieName, id, cookieOptions(request))
            )
          }
        }
      })
    )

    yield* router.post(
      "/logout",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (!fromOwnOrigin(request)) return crossOrigin(pageLang(request))
        const id = request.cookies[access.cookieName]
        // Ended on the server: the old cookie is refused even if a copy of it survives somewhere.
        if (id !== undefined) yield* sessions.end(id)
        return HttpServerResponse.redirect("/", { status: 303, headers: noStore }).pipe(
          HttpServerResponse.expireCookie(access.cookieName, cookieOptions(request))
        )
      })
    )

    yield* router.get("/docs", Effect.succeed(htmlResponse(docsPage())))
    // The printable statement of a month (its data comes from the API).
    yield* router.get(
      "/statement",
      Effect.map(HttpServerRequest.HttpServerRequest, (request) => htmlResponse(statementPage(pageLang(request))))
    )
    for (const [file, response] of assets) yield* router.get(`/assets/${file}`, response)
  })
)

/** The OpenAPI description of `MaiApi`, built on its first request (only /docs and tools read it). */
const OpenApiRoute = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const { api } = yield* HttpApi.Api
    yield* router.get("/api/v1/openapi.json", onFirstUse(() => Effect.orDie(HttpServerResponse.json(OpenApi.fromApi(api)))))
  })
)

/** The dashboard, `/docs` and the OpenAPI description of `MaiApi`. */
export const DashboardLive = Layer.mergeAll(DashboardRoutes, OpenApiRoute)
