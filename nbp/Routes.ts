/**
 * The service's HTTP contract as plain effects: a request in, a
 * reply out. The transport (`Server.ts`) only parses and writes.
 */
import { Clock, Effect, Either, Exit, Option, Redacted } from "effect"
import {
  Forbidden,
  InvalidQuery,
  MethodNotAllowed,
  NotFound,
  statusOf,
  Unauthorized,
  Unavailable
} from "../src/api/ApiErrors.js"
import { type ExchangeRateRule, parseExchangeRateRule } from "../src/domain/RateRule.js"
import { daysBetween, parseDay } from "../src/domain/WarsawDay.js"
import type { NbpRateError } from "../src/rates/NbpRateError.js"
import type { CachedTable } from "../src/rates/RateQuote.js"
import { secretMatcher } from "../src/platform/Secrets.js"
import type { ServiceMetrics } from "./Metrics.js"
import type { RateService } from "./RateService.js"

export interface Request {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly authorization: string | undefined
}

export interface Reply {
  readonly status: number
  readonly body: string
  readonly contentType: string
  readonly headers?: Record<string, string>
}

const jsonType = "application/json; charset=utf-8"
const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body), contentType: jsonType })
type HttpError = InvalidQuery | Unauthorized | Forbidden | NotFound | MethodNotAllowed | Unavailable

/** An error answers `{"error": "…"}` with the status its class declares (`http/ApiErrors.ts`). */
const error = (e: HttpError): Reply => json(statusOf(e) ?? 500, { error: e.message })
const invalid = (message: string) => error(new InvalidQuery({ message }))

/** NBP's domain error as the service's HTTP error. */
const asHttp = (e: NbpRateError): HttpError => {
  const message = e.message
  switch (e.reason) {
    case "bad-request":
      return new InvalidQuery({ message })
    case "not-found":
      return new NotFound({ message })
    case "unreachable":
      return new Unavailable({ message })
  }
}

/** The error reply carries NBP's reason, never a rate. */
const failure = (e: NbpRateError): Reply => error(asHttp(e))

const quoteFields = (cached: CachedTable) => ({
  code: "USD",
  rate: cached.table.midText,
  table: cached.table.no,
  effectiveDate: cached.table.effectiveDate,
  source: "nbp",
  fetchedAt: new Date(cached.fetchedAt).toISOString(),
  stale: cached.stale
})

/** NBP allows at most 367 days per range query; so do we. */
export const maxRangeDays = 367

export interface RoutesOptions {
  readonly rates: RateService
  readonly metrics: ServiceMetrics
  readonly adminToken: Redacted.Redacted | undefined
  readonly startedAt: number
}

export const makeRoutes = (options: RoutesOptions) => {
  const { metrics, rates } = options

  // the latest reply is rebuilt only when the cached table object changes
  let latestReply: { readonly cached: CachedTable; readonly reply: Reply } | undefined
  const replyForLatest = (cached: CachedTable): Reply => {
    if (latestReply?.cached !== cached) latestReply = { cached, reply: json(200, quoteFields(cached)) }
    return latestReply.reply
  }
  const refreshAndReply = Effect.match(rates.latest, { onFailure: failure, onSuccess: replyForLatest })
  /**
   * The hot path: a fresh cached table is answered as a ready `Exit`, which the
   * server writes without starting a fiber; anything else runs the effect.
   */
  const latestRate = (): Effect.Effect<Reply> => {
    const fresh = rates.unsafeFreshLatest()
    return fresh === undefined ? refreshAndReply : Exit.succeed(replyForLatest(fresh))
  }

  const datedRate = (day: string, rule: ExchangeRateRule) =>
    Effect.match(rates.select(day, rule), {
      onFailure: failure,
      onSuccess: (cached) => json(200, { ...quoteFields(cached), requestedDate: day, rule })
    })

  const usdPlnRate = (query: URLSearchParams): Effect.Effect<Reply> => {
    const date = query.get("date")
    const rule = query.get("rule")
    const parsedRule = rule === null ? Either.right<ExchangeRateRule>("same-day") : parseExchangeRateRule(rule)
    if (Either.isLeft(parsedRule)) return Effect.succeed(invalid(parsedRule.left))
    if (date === null) return latestRate()
    return Either.match(parseDay(date), {
      onLeft: ({ message }) => Effect.succeed(invalid(message)),
      onRight: (day) => datedRate(day, parsedRule.right)
    })
  }

  const range = (query: URLSearchParams): Effect.Effect<Reply> => {
    const start = query.get("start_date")
    const end = query.get("end_date")
    if (start === null || end === null) {
      return Effect.succeed(invalid("start_date and end_date are required (YYYY-MM-DD)"))
    }
    const days = Either.all([parseDay(start), parseDay(end)])
    if (Either.isLeft(days)) return Effect.succeed(invalid(days.left.message))
    if (start > end) return Effect.succeed(invalid(`start_date ${start} is after end_date ${end}`))
    if (daysBetween(start, end) + 1 > maxRangeDays) {
      return Effect.succeed(invalid(`the range spans more than ${maxRangeDays} days`))
    }
    return Effect.match(rates.range(start, end), {
      onFailure: failure,
      onSuccess: ({ fetchedAt, tables }) =>
        json(200, {
          rates: tables.map((t) => ({ code: "USD", rate: t.midText, table: t.no, effectiveDate: t.effectiveDate })),
          count: tables.length,
          source: "nbp",
          fetchedAt: new Date(fetchedAt).toISOString()
        })
    })
  }

  // An empty token (however it got here) disables clearing rather than accepting an empty bearer.
  const token = options.adminToken === undefined ? "" : String(Redacted.value(options.adminToken)).trim()
  const isAdminToken = secretMatcher(token === "" ? [] : [token])
  const clearCache = (authorization: string | undefined): Effect.Effect<Reply> => {
    if (token === "") {
      return Effect.succeed(error(new Forbidden({ message: "cache clearing is disabled: NBP_ADMIN_TOKEN is not set" })))
    }
    const given = authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : ""
    if (!isAdminToken(given)) {
      return Effect.succeed({
        ...error(new Unauthorized({ message: "a valid Authorization: Bearer <NBP_ADMIN_TOKEN> is required" })),
        headers: { "www-authenticate": "Bearer" }
      })
    }
    return Effect.as(
      Effect.zipRight(rates.clearAll, Effect.logInfo("NBP rate cache cleared")),
      json(200, { cleared: true })
    )
  }

  const health = Effect.gen(function*() {
    const latest = yield* rates.peekLatest
    const now = yield* Clock.currentTimeMillis
    const healthy = Option.isSome(latest) && !latest.value.stale
    return json(200, {
      status: healthy ? "healthy" : "degraded",
      service: "nbp-rate-service",
      latest: Option.match(latest, {
        onNone: () => null,
        onSome: (cached) => quoteFields(cached)
      }),
      cachedEntries: yield* rates.size,
      uptimeSeconds: Math.floor((now - options.startedAt) / 1000)
    })
  })

  const metricsReply = Effect.gen(function*() {
    const latest = yield* rates.peekLatest
    const now = yield* Clock.currentTimeMillis
    const body = yield* metrics.render({
      latestStale: Option.getOrUndefined(Option.map(latest, (l) => l.stale)),
      latestAgeSeconds: Option.getOrUndefined(Option.map(latest, (l) => Math.max(0, (now - l.fetchedAt) / 1000))),
      cachedEntries: yield* rates.size
    })
    return { status: 200, body, contentType: metrics.contentType } satisfies Reply
  })

  const routes: Record<string, { readonly method: string; readonly run: (r: Request) => Effect.Effect<Reply> }> = {
    "/api/usd-pln-rate": { method: "GET", run: (r) => usdPlnRate(r.query) },
    "/api/usd-pln-rate/range": { method: "GET", run: (r) => range(r.query) },
    "/api/cache/clear": { method: "POST", run: (r) => clearCache(r.authorization) },
    "/health": { method: "GET", run: () => health },
    "/metrics": { method: "GET", run: () => metricsReply }
  }

  /**
   * Answers one request. `route` is the label for metrics: the matched path
   * (a bounded set), never the raw URL.
   */
  return (request: Request): { readonly route: string; readonly reply: Effect.Effect<Reply> } => {
    const path = request.path.length > 1 && request.path.endsWith("/") ? request.path.slice(0, -1) : request.path
    const route = routes[path]
    if (route === undefined) return { route: "other", reply: Exit.succeed(error(new NotFound({ message: `no route ${path}` }))) }
    if (route.method !== request.method && !(route.method === "GET" && request.method === "HEAD")) {
      return {
        route: path,
        reply: Exit.succeed({
          ...error(new MethodNotAllowed({ message: `${request.method} not allowed on ${path}` })),
          headers: { allow: route.method }
        })
      }
    }
    return { route: path, reply: route.run(request) }
  }
}
