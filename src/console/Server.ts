/**
 * The console's HTTP server (`mai-usage console`, port 8090): the login form and the fleet page,
 * their assets, and the console's own JSON API, which the page uses and a script may use with
 * `Authorization: Bearer <CONSOLE_ADMIN_TOKEN>`:
 *
 * - `GET /api/fleet?month=YYYY-MM[&fresh=1][&format=ndjson]`: every client's row and the totals
 *   (NDJSON: a `start` line, one `row` line per client as it answers, a `done` line with the totals).
 * - `GET /api/fleet.csv?month=…[&dialect=excel-pl]`: the same as CSV.
 * - `POST /api/close` `{"month", "clients": [ids], "acceptUnreconciled"?, "reason"?}`: each client's result.
 * - `POST /api/archives` `{"month", "clients"?}`, `GET /api/archives/:id` (progress),
 *   `GET /api/archives/:id/zip`: the month's documents as one ZIP.
 *
 * The same limits as the app: the app's server time-outs, bodies bounded (`http/BodyLimits.ts`),
 * pages under a same-origin Content-Security-Policy.
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Clock, DateTime, Effect, Either, Layer, Option, Schema, Stream } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import { statusOf } from "../api/ApiErrors.js"
import { CsvDialectParam } from "../domain/Csv.js"
import { isMonth } from "../domain/WarsawDay.js"
import { pageHeaders } from "../dashboard/DashboardRoutes.js"
import { fromOwnOrigin, isHttps } from "../http/AdminAuth.js"
import { API_BODY_LIMIT, bodyLimitFor, LOGIN_BODY_LIMIT } from "../http/BodyLimits.js"
import { SERVER_TIMEOUTS } from "../http/Server.js"
import { assetPath } from "../platform/Assets.js"
import { ConsoleAccess } from "./Access.js"
import { Archives } from "./Archive.js"
import { ConsoleConfig } from "./ConsoleConfig.js"
import { Fleet, fleetCsv, type FleetRow, totalsOf } from "./Fleet.js"
import { fleetPage, label, type Lang, loginPage } from "./Pages.js"
import { Registry } from "./Registry.js"

const html = (body: string, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8", headers: { ...pageHeaders, ...headers } })

const json = (body: unknown, status = 200) =>
  HttpServerResponse.unsafeJson(body, { status, headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" } })

const errorJson = (status: number, message: string) => json({ error: message }, status)

const ASSETS = ["console.js", "console.css"] as const
const asset = (file: string) => {
  const body = Fs.readFileSync(assetPath(`console/assets/${file}`), "utf8")
  return HttpServerResponse.text(body, {
    contentType: file.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
    headers: { "cache-control": "no-cache", "x-content-type-options": "nosniff" }
  })
}

const pad = (n: number) => String(n).padStart(2, "0")

const langOf = (request: HttpServerRequest.HttpServerRequest): Lang =>
  new URL(request.url, "http://x").searchParams.get("lang") === "en" ? "en" : "pl"

const queryOf = (request: HttpServerRequest.HttpServerRequest) => new URL(request.url, "http://x").searchParams

const LoginForm = Schema.Struct({ token: Schema.optionalWith(Schema.String, { default: () => "" }) })

const CloseBody = Schema.Struct({
  month: Schema.String.pipe(Schema.filter(isMonth)),
  clients: Schema.Array(Schema.String).pipe(Schema.minItems(1), Schema.maxItems(10_000)),
  acceptUnreconciled: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  reason: Schema.optional(Schema.String.pipe(Schema.maxLength(500)))
})

const ArchiveBody = Schema.Struct({
  month: Schema.String.pipe(Schema.filter(isMonth)),
  clients: Schema.optional(Schema.Array(Schema.String).pipe(Schema.maxItems(10_000)))
})

export const ConsoleRoutes = Effect.gen(function*() {
  const config = yield* ConsoleConfig
  const access = yield* ConsoleAccess
  const fleet = yield* Fleet
  const archives = yield* Archives
  const registry = yield* Registry
  const assets = ASSETS.map((file) => [file, asset(file)] as const)

  /** The month of yesterday in Warsaw: the newest day that can be billed. */
  const defaultMonth = Effect.map(DateTime.now, (now) => {
    const parts = DateTime.toParts(DateTime.subtract(DateTime.unsafeMakeZoned(now, { timeZone: "Europe/Warsaw" }), { days: 1 }))
    return `${parts.year}-${pad(parts.month)}`
  })

  /** A route of the API: authenticated (bearer or session, same-origin for a change), else its 401/403. */
  const authed = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.matchEffect(access.check(request), {
        onFailure: (e) => Effect.succeed(errorJson(statusOf(e) ?? 401, e.message)),
        onSuccess: () => handler
      }))

  const monthParam = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const month = queryOf(request).get("month") ?? ""
    return isMonth(month) ? Either.right(month) : Either.left(`month must be YYYY-MM, got ${JSON.stringify(month.slice(0, 20))}`)
  })

  const cookieOptions = (request: HttpServerRequest.HttpServerRequest) => ({ httpOnly: true, sameSite: "strict" as const, path: "/", secure: isHttps(request) })

  const fleetJson = (month: string, fresh: boolean) =>
    Effect.gen(function*() {
      const snapshot = yield* registry.current
      const rows = yield* fleet.all(month, fresh)
      return json({ month, registryError: snapshot.error ?? null, rows, totals: totalsOf(rows) })
    })

  const fleetNdjson = (month: string, fresh: boolean) =>
    Effect.gen(function*() {
      const snapshot = yield* registry.current
      const seen: Array<FleetRow> = []
      const line = (value: unknown) => new TextEncoder().encode(JSON.stringify(value) + "\n")
      const body = Stream.make(line({ type: "start", month, total: snapshot.clients.length, registryError: snapshot.error ?? null })).pipe(
        Stream.concat(Stream.map(fleet.rows(month, fresh), (row) => {
          seen.push(row)
          return line({ type: "row", row })
        })),
        Stream.concat(Stream.fromEffect(Effect.sync(() => line({ type: "done", totals: totalsOf(seen) }))))
      )
      return HttpServerResponse.stream(body, {
        contentType: "application/x-ndjson; charset=utf-8",
        headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" }
      })
    })

  const badBody = (e: unknown) =>
    errorJson(
      (e as any)?._tag === "RequestError" && /too large|maxBodySize/i.test(String((e as any).message ?? (e as any).cause)) ? 413 : 400,
      "the body is not what this endpoint takes"
    )

  const router = HttpRouter.empty.pipe(
    HttpRouter.get("/health", Effect.succeed(json({ status: "ok" }))),
    HttpRouter.get(
      "/",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const lang = langOf(request)
        if (!(yield* Effect.isSuccess(access.check(request)))) return html(loginPage(lang))
        const asked = queryOf(request).get("month") ?? ""
        return html(fleetPage(lang, isMonth(asked) ? asked : yield* defaultMonth))
      })
    ),
    HttpRouter.post(
      "/login",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const lang = langOf(request)
        const again = (key: string, status: number, vars: Record<string, string> = {}, headers: Record<string, string> = {}) =>
          html(loginPage(lang, label(lang, key, vars)), status, headers)
        if ((request.headers["origin"] !== undefined || request.headers["referer"] !== undefined) && !fromOwnOrigin(request)) {
          return again("login.crossOrigin", 403)
        }
        const address = Option.getOrElse(request.remoteAddress, () => "unknown")
        const wait = access.throttle.locked(address, yield* Clock.currentTimeMillis)
        const tooMany = (seconds: number) => again("login.tooMany", 429, { seconds: String(seconds) }, { "retry-after": String(seconds), connection: "close" })
        if (wait !== undefined) return tooMany(wait)
        const form = yield* HttpServerRequest.schemaBodyUrlParams(LoginForm).pipe(
          HttpServerRequest.withMaxBodySize(Option.some(LOGIN_BODY_LIMIT)),
          Effect.either
        )
        if (Either.isLeft(form)) return again("login.unreadable", 400, {}, { connection: "close" })
        const token = form.right.token.trim()
        const outcome = access.throttle.attempt(address, yield* Clock.currentTimeMillis, () => access.isToken(token))
        switch (outcome._tag) {
          case "Locked":
            return tooMany(outcome.retryAfterSeconds)
          case "Refused":
            yield* Effect.logWarning("console login refused", { failures: outcome.failures })
            return again(token === "" ? "login.empty" : "login.invalid", 401)
          case "Accepted": {
            const id = yield* access.sessions.start
            return HttpServerResponse.redirect(lang === "en" ? "/?lang=en" : "/", { status: 303, headers: { "cache-control": "no-store" } }).pipe(
              HttpServerResponse.unsafeSetCookie(access.cookieName, id, cookieOptions(request))
            )
          }
        }
      })
    ),
    HttpRouter.post(
      "/logout",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (!fromOwnOrigin(request)) return html(loginPage(langOf(request), label(langOf(request), "login.crossOrigin")), 403)
        const id = request.cookies[access.cookieName]
        if (id !== undefined) yield* access.sessions.end(id)
        return HttpServerResponse.redirect(langOf(request) === "en" ? "/?lang=en" : "/", { status: 303, headers: { "cache-control": "no-store" } }).pipe(
          HttpServerResponse.expireCookie(access.cookieName, cookieOptions(request))
        )
      })
    ),
    HttpRouter.get(
      "/api/fleet",
      authed(Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const month = yield* monthParam
        if (Either.isLeft(month)) return errorJson(400, month.left)
        const q = queryOf(request)
        const fresh = q.get("fresh") === "1"
        const ndjson = q.get("format") === "ndjson" || (q.get("format") === null && /application\/x-ndjson/.test(request.headers["accept"] ?? ""))
        return yield* (ndjson ? fleetNdjson(month.right, fresh) : fleetJson(month.right, fresh))
      }))
    ),
    HttpRouter.get(
      "/api/fleet.csv",
      authed(Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const month = yield* monthParam
        if (Either.isLeft(month)) return errorJson(400, month.left)
        const dialect = Schema.decodeUnknownEither(Schema.UndefinedOr(CsvDialectParam))(queryOf(request).get("dialect") ?? undefined)
        if (Either.isLeft(dialect)) return errorJson(400, "dialect must be rfc4180 or excel-pl")
        const rows = yield* fleet.all(month.right, queryOf(request).get("fresh") === "1")
        return HttpServerResponse.text(fleetCsv(rows, dialect.right), {
          contentType: "text/csv; charset=utf-8; header=present",
          headers: { "content-disposition": `attachment; filename="mai-console_${month.right}${dialect.right === "excel-pl" ? "_excel-pl" : ""}.csv"`, "cache-control": "no-store" }
        })
      }))
    ),
    HttpRouter.post(
      "/api/close",
      authed(Effect.gen(function*() {
        const body = yield* Effect.either(HttpServerRequest.schemaBodyJson(CloseBody))
        if (Either.isLeft(body)) return badBody(body.left)
        const { acceptUnreconciled, clients, month, reason } = body.right
        const results = yield* fleet.close(month, clients, { acceptUnreconciled, reason: reason?.trim() === "" ? undefined : reason?.trim() })
        return json({ month, results })
      }))
    ),
    HttpRouter.post(
      "/api/archives",
      authed(Effect.gen(function*() {
        const body = yield* Effect.either(HttpServerRequest.schemaBodyJson(ArchiveBody))
        if (Either.isLeft(body)) return badBody(body.left)
        return json(yield* archives.start(body.right.month, body.right.clients), 202)
      }))
    ),
    HttpRouter.get(
      "/api/archives/:id",
      authed(Effect.gen(function*() {
        const { id } = yield* HttpRouter.params
        const progress = yield* archives.progress(id ?? "")
        return progress === undefined ? errorJson(404, "no such archive (they are kept for an hour)") : json(progress)
      }))
    ),
    HttpRouter.get(
      "/api/archives/:id/zip",
      authed(Effect.gen(function*() {
        const { id } = yield* HttpRouter.params
        const found = yield* archives.fileOf(id ?? "")
        if (found === undefined) return errorJson(404, "no finished archive with this id")
        const size = Fs.statSync(found.file).size
        return HttpServerResponse.stream(
          Stream.fromAsyncIterable(Fs.createReadStream(found.file), (e) => e as Error),
          {
            contentType: "application/zip",
            contentLength: size,
            headers: { "content-disposition": `attachment; filename="mai-usage_documents_${found.month}.zip"`, "cache-control": "no-store" }
          }
        )
      }))
    )
  )
  const withAssets = assets.reduce((r, [file, response]) => HttpRouter.get(r, `/assets/${file}`, Effect.succeed(response)), router)
  void config
  return withAssets
})

/** Refuses a declared body over the path's limit before reading it; a chunked one is cut at the limit. */
const bodyLimits = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const path = new URL(request.url, "http://x").pathname
    const limit = bodyLimitFor(path)
    if (Number(request.headers["content-length"] ?? 0) > limit) {
      return Effect.succeed(errorJson(413, `request body too large: at most ${limit} bytes on ${path}`))
    }
    return HttpServerRequest.withMaxBodySize(app, Option.some(API_BODY_LIMIT))
  }))

/** Logs each failed request's status and path (never a header, a body or a query). */
const logErrors = HttpMiddleware.make((app) =>
  Effect.tapErrorCause(app, (cause) => Effect.logWarning("console request failed", { error: String(cause).split("\n")[0].slice(0, 200) })))

export const ConsoleHttpLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const config = yield* ConsoleConfig
    const routes = yield* ConsoleRoutes
    const app = yield* HttpRouter.toHttpApp(routes)
    return HttpServer.serve(bodyLimits(logErrors(app))).pipe(
      HttpServer.withLogAddress,
      Layer.provide(NodeHttpServer.layer(() => Http.createServer(SERVER_TIMEOUTS), { port: config.port, host: config.host }))
    )
  })
)
