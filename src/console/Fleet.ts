/**
 * The fleet: every registered client's month, read through the app's own typed contract
 * (`api/Client.ts`), never a hand-written JSON shape.
 *
 * - At most `MAX_IN_FLIGHT` (16) requests to the containers at once, over every page, action and
 *   archive of the process (one semaphore); the `CLIENT_TIMEOUT` (5 s) counts from when a request
 *   leaves, so a client waiting for its turn is never timed out by the others.
 * - A client's answer is kept `CACHE_TTL` (60 s). Only answers: a failure is never cached (Effect's
 *   `cachedWithTTL` would keep it), so a client that comes back shows at once. Two views asking for
 *   the same client and month at once share one request. An action on a client forgets its answers.
 * - A client that does not answer, refuses or answers garbage is a row saying so and why; each row
 *   is produced on its own, so the others never wait for it (`rows` streams them as they come).
 * - Client admin tokens are `Redacted` and go only into the request's Authorization header; every
 *   text that leaves here has them scrubbed besides.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { BigDecimal, type Cause, Data, Deferred, Duration, Effect, Redacted, Schema, Stream } from "effect"
import { AppTarget, makeAppsClient } from "../api/Client.js"
import { MonthOverview } from "../api/OverviewApi.js"
import { type CsvDialect, type CsvValue, toCsv } from "../domain/Csv.js"
import { formatDecimal, roundHalfUp } from "../domain/Money.js"
import { type RegisteredClient, Registry } from "./Registry.js"

export const MAX_IN_FLIGHT = 16
export const CLIENT_TIMEOUT = Duration.seconds(5)
/** Closing a month and fetching documents do more work than a read: their own, longer limit. */
export const ACTION_TIMEOUT = Duration.seconds(60)
export const CACHE_TTL = Duration.seconds(60)

export type RowStatus = "ok" | "unreachable" | "failing" | "unconfigured"

export type OverviewJson = typeof MonthOverview.Encoded

export interface FleetRow {
  readonly id: string
  readonly orgId: string
  readonly baseUrl: string
  readonly status: RowStatus
  /** why there are no figures (null when there are) */
  readonly reason: FailureReason | null
  readonly error: string | null
  readonly fetchedAt: string | null
  readonly overview: OverviewJson | null
}

export interface FleetTotals {
  readonly clients: number
  readonly ok: number
  readonly notOk: number
  readonly billedPln: string
  readonly billedUsd: string
  readonly openRouterPln: string
  readonly marginPln: string
  readonly marginPercent: string | null
  readonly requests: number
  readonly pendingCosts: number
  readonly quarantinedRows: number
}

/** A client without a usable admin token: nothing is asked of it. */
export class Unconfigured extends Data.TaggedError("Unconfigured")<{ readonly message: string }> {}

export type Api = Effect.Effect.Success<typeof makeAppsClient>

const errno = (e: unknown): string | undefined => {
  let c: any = e
  for (let i = 0; i < 5 && c !== undefined && c !== null; i++) {
    if (typeof c.code === "string") return c.code
    c = c.cause
  }
  return undefined
}

/** Why a client has no row of figures, as a word the page says in its own language. */
export type FailureReason = "timeout" | "connection" | "token" | "notServed" | "shape" | "app" | "noToken"

export interface Failure {
  readonly status: "unreachable" | "failing"
  readonly reason: FailureReason
  /** the same in one line of English, with the detail (an error code, the app's own message) */
  readonly error: string
}

/** What went wrong with a client, whether it was reached at all, and why. */
export const describeFailure = (e: unknown, timeout: Duration.DurationInput = CLIENT_TIMEOUT): Failure => {
  const tag = typeof e === "object" && e !== null && "_tag" in e ? String((e as any)._tag) : ""
  const message = typeof e === "object" && e !== null && "message" in e ? String((e as any).message).split("\n")[0] : ""
  switch (tag) {
    case "TimeoutException":
      return { status: "unreachable", reason: "timeout", error: `no answer within ${Duration.format(timeout)}` }
    case "RequestError":
      return { status: "unreachable", reason: "connection", error: `no connection (${errno(e) ?? (e as any).reason ?? "transport error"})` }
    case "ResponseError": {
      const status = (e as any).response?.status
      return status === 404
        ? { status: "failing", reason: "notServed", error: "answered 404: this app does not serve the console's API (an older version?)" }
        : { status: "failing", reason: "app", error: `answered HTTP ${status}` }
    }
    case "Unauthorized":
      return { status: "failing", reason: "token", error: "the client refused the admin token in clients.json (401)" }
    case "ParseError":
      return { status: "failing", reason: "shape", error: "answered in a shape the contract does not know (another version?)" }
    default:
      return { status: "failing", reason: "app", error: tag === "" ? "failed" : `${tag}: ${message}` }
  }
}

const encodeOverview = Schema.encodeSync(MonthOverview)

const dec = (s: string) => BigDecimal.unsafeFromString(s)
const zero = BigDecimal.fromBigInt(0n)

/** The totals across clients: sums of the rows that answered, exact. */
export const totalsOf = (rows: ReadonlyArray<FleetRow>): FleetTotals => {
  const ok = rows.flatMap((r) => (r.overview === null ? [] : [r.overview]))
  const sum = (f: (o: OverviewJson) => string) => ok.reduce((s, o) => BigDecimal.sum(s, dec(f(o))), zero)
  const billed = sum((o) => o.billedPln)
  const margin = sum((o) => o.marginPln)
  return {
    clients: rows.length,
    ok: ok.length,
    notOk: rows.length - ok.length,
    billedPln: formatDecimal(billed, 2),
    billedUsd: formatDecimal(sum((o) => o.billedUsd), 2),
    openRouterPln: formatDecimal(sum((o) => o.openRouterPln), 2),
    marginPln: formatDecimal(margin, 2),
    marginPercent: BigDecimal.isZero(billed)
      ? null
      : formatDecimal(roundHalfUp(BigDecimal.unsafeDivide(BigDecimal.multiply(margin, dec("100")), billed), 2), 2),
    requests: ok.reduce((n, o) => n + o.requests, 0),
    pendingCosts: ok.reduce((n, o) => n + o.pendingCosts, 0),
    quarantinedRows: ok.reduce((n, o) => n + o.quarantinedRows, 0)
  }
}

/** The month state as one word: open, closable, closed. */
export const stateOf = (o: OverviewJson) => (o.state.status === "closed" ? "closed" : o.state.closable ? "closable" : "open")

const CSV_COLUMNS = [
  "client", "orgId", "status", "error", "billedPln", "billedUsd", "openRouterPln", "marginPln", "marginPercent", "requests",
  "state", "closedAt", "closedBy", "reconciledDaysOk", "reconciledDaysMissing", "reconciledDaysUnreconciled",
  "lastBatchRunDay", "lastBatchRunStatus", "ready", "pendingCosts", "quarantinedRows", "budgetAlerts"
] as const

/** The fleet's month as CSV (either dialect), one line per client and a last line of totals. */
export const fleetCsv = (rows: ReadonlyArray<FleetRow>, dialect: CsvDialect | undefined): string => {
  const t = totalsOf(rows)
  const records: Array<Record<(typeof CSV_COLUMNS)[number], CsvValue>> = rows.map((r) => {
    const o = r.overview
    return {
      client: r.id,
      orgId: r.orgId,
      status: r.status,
      error: r.error,
      billedPln: o?.billedPln,
      billedUsd: o?.billedUsd,
      openRouterPln: o?.openRouterPln,
      marginPln: o?.marginPln,
      marginPercent: o?.marginPercent,
      requests: o?.requests,
      state: o === null ? null : stateOf(o),
      closedAt: o?.state.closedAt,
      closedBy: o?.state.closedBy,
      reconciledDaysOk: o?.reconciliation.daysOk,
      reconciledDaysMissing: o?.reconciliation.daysMissing,
      reconciledDaysUnreconciled: o?.reconciliation.daysUnreconciled,
      lastBatchRunDay: o?.lastBatchRun?.usageDate,
      lastBatchRunStatus: o?.lastBatchRun?.status,
      ready: o === null ? null : o.ready.ok ? "ok" : "not ready",
      pendingCosts: o?.pendingCosts,
      quarantinedRows: o?.quarantinedRows,
      budgetAlerts: o?.budgetAlerts?.length
    }
  })
  records.push({
    client: "TOTAL", orgId: null, status: null, error: null, billedPln: t.billedPln, billedUsd: t.billedUsd,
    openRouterPln: t.openRouterPln, marginPln: t.marginPln, marginPercent: t.marginPercent, requests: t.requests, state: null,
    closedAt: null, closedBy: null, reconciledDaysOk: undefined, reconciledDaysMissing: undefined, reconciledDaysUnreconciled: undefined,
    lastBatchRunDay: undefined, lastBatchRunStatus: undefined, ready: null, pendingCosts: t.pendingCosts, quarantinedRows: t.quarantinedRows,
    budgetAlerts: undefined
  })
  return toCsv(CSV_COLUMNS, records, { dialect, textColumns: ["client", "orgId", "status", "error", "state", "closedAt", "closedBy", "lastBatchRunDay", "lastBatchRunStatus", "ready"] })
}

export interface CloseResult {
  readonly id: string
  readonly ok: boolean
  readonly closedAt: string | null
  readonly closedBy: string | null
  readonly error: string | null
}

export class Fleet extends Effect.Service<Fleet>()("mai-usage/console/Fleet", {
  effect: Effect.gen(function*() {
    const registry = yield* Registry
    // Built once for every client: each call is pointed at its client (AppTarget).
    const apps = yield* makeAppsClient
    const semaphore = yield* Effect.makeSemaphore(MAX_IN_FLIGHT)
    const cache = new Map<string, { readonly expiresAt: number; readonly row: FleetRow }>()
    const inFlight = new Map<string, Deferred.Deferred<FleetRow>>()

    /** Every registered token, to scrub from any text that leaves the console. */
    const scrub = (text: string) =>
      Effect.map(registry.current, (snapshot) =>
        snapshot.clients.reduce(
          (t, c) => (c.token === undefined ? t : t.split(Redacted.value(c.token)).join("[redacted]")),
          text
        ))

    /** One request to one client, through its typed client: within the in-flight limit and its own time-out. */
    const call = <A, E>(
      client: RegisteredClient,
      f: (api: Api) => Effect.Effect<A, E>,
      timeout: Duration.DurationInput = CLIENT_TIMEOUT
    ): Effect.Effect<A, E | Unconfigured | Cause.TimeoutException> => {
      const token = client.token
      if (token === undefined) return Effect.fail(new Unconfigured({ message: client.problem ?? "no admin token" }))
      return semaphore.withPermits(1)(
        f(apps).pipe(
          Effect.timeout(timeout),
          Effect.locally(AppTarget, { baseUrl: client.baseUrl, adminToken: Redacted.value(token) })
        )
      )
    }

    const failureRow = (client: RegisteredClient, e: unknown, timeout: Duration.DurationInput = CLIENT_TIMEOUT) =>
      Effect.gen(function*() {
        if (e instanceof Unconfigured) return { status: "unconfigured" as const, reason: "noToken" as const, error: yield* scrub(e.message) }
        const d = describeFailure(e, timeout)
        return { status: d.status, reason: d.reason, error: yield* scrub(d.error) }
      })

    const keyOf = (client: RegisteredClient, month: string) => `${client.id}\u0000${client.baseUrl}\u0000${month}`

    const fetchRow = (client: RegisteredClient, month: string): Effect.Effect<FleetRow> =>
      call(client, (api) => api.overview.month({ path: { month } })).pipe(
        Effect.map((o): FleetRow => ({
          id: client.id,
          orgId: client.orgId,
          baseUrl: client.baseUrl,
          status: "ok",
          reason: null,
          error: null,
          fetchedAt: new Date().toISOString(),
          overview: encodeOverview(o)
        })),
        Effect.catchAll((e) =>
          Effect.map(failureRow(client, e), (f): FleetRow => ({
            id: client.id,
            orgId: client.orgId,
            baseUrl: client.baseUrl,
            ...f,
            fetchedAt: new Date().toISOString(),
            overview: null
          }))
        ),
        Effect.catchAllDefect((d) =>
          Effect.succeed<FleetRow>({
            id: client.id, orgId: client.orgId, baseUrl: client.baseUrl, status: "failing", reason: "app",
            error: `failed: ${String(d).split("\n")[0].slice(0, 200)}`, fetchedAt: new Date().toISOString(), overview: null
          })
        )
      )

    /** A client's row: from the cache while fresh, else fetched (shared with a request already under way). */
    const rowOf = (client: RegisteredClient, month: string, fresh = false): Effect.Effect<FleetRow> =>
      Effect.suspend(() => {
        const key = keyOf(client, month)
        const cached = cache.get(key)
        if (!fresh && cached !== undefined && cached.expiresAt > Date.now()) return Effect.succeed(cached.row)
        const pending = inFlight.get(key)
        if (pending !== undefined) return Deferred.await(pending)
        return Effect.gen(function*() {
          const deferred = yield* Deferred.make<FleetRow>()
          inFlight.set(key, deferred)
          const row = yield* fetchRow(client, month).pipe(
            Effect.ensuring(Effect.sync(() => inFlight.delete(key)))
          )
          if (row.status === "ok") cache.set(key, { expiresAt: Date.now() + Duration.toMillis(CACHE_TTL), row })
          else cache.delete(key)
          yield* Deferred.succeed(deferred, row)
          return row
        })
      })

    /** Every client's row, as each is ready (the slow or dead never hold the others back). */
    const rows = (month: string, fresh = false) =>
      Stream.unwrap(Effect.map(registry.current, (snapshot) =>
        Stream.fromIterable(snapshot.clients).pipe(
          // No more fibers than requests can be in flight: the rest wait in the stream, not on the semaphore.
          Stream.mapEffect((c) => rowOf(c, month, fresh), { concurrency: MAX_IN_FLIGHT, unordered: true })
        )))

    /** Every row, in the registry's order. */
    const all = (month: string, fresh = false) =>
      Effect.flatMap(registry.current, (snapshot) =>
        Effect.forEach(snapshot.clients, (c) => rowOf(c, month, fresh), { concurrency: MAX_IN_FLIGHT }))

    const forget = (ids: ReadonlyArray<string>) =>
      Effect.sync(() => {
        for (const key of [...cache.keys()]) if (ids.includes(key.split("\u0000")[0])) cache.delete(key)
      })

    const clientsNamed = (ids: ReadonlyArray<string>) =>
      Effect.map(registry.current, (snapshot) => ({
        found: snapshot.clients.filter((c) => ids.includes(c.id)),
        unknown: ids.filter((id) => !snapshot.clients.some((c) => c.id === id))
      }))

    /** Closes `month` for each client named, each through its own API; each one's result. */
    const close = (month: string, ids: ReadonlyArray<string>, options: { readonly acceptUnreconciled: boolean; readonly reason: string | undefined }) =>
      Effect.gen(function*() {
        const { found, unknown } = yield* clientsNamed(ids)
        const results = yield* Effect.forEach(found, (client) =>
          call(client, (api) =>
            api.months.close({
              path: { month },
              urlParams: {
                ...(options.reason === undefined ? {} : { reason: options.reason }),
                ...(options.acceptUnreconciled ? { acceptUnreconciled: "true" as const } : {})
              },
              payload: null
            }), ACTION_TIMEOUT).pipe(
            Effect.map((c): CloseResult => ({ id: client.id, ok: true, closedAt: c.closedAt, closedBy: c.closedBy, error: null })),
            Effect.catchAll((e) =>
              Effect.map(failureRow(client, e, ACTION_TIMEOUT), (f): CloseResult => ({ id: client.id, ok: false, closedAt: null, closedBy: null, error: f.error }))
            )
          ), { concurrency: MAX_IN_FLIGHT })
        yield* forget(ids)
        for (const id of unknown) results.push({ id, ok: false, closedAt: null, closedBy: null, error: "not in clients.json" })
        yield* Effect.logInfo("months closed from the console", {
          month,
          closed: results.filter((r) => r.ok).map((r) => r.id),
          refused: results.filter((r) => !r.ok).map((r) => r.id)
        })
        return results
      })

    return { rows, all, rowOf, close, call, scrub, forget, clientsNamed, registry: registry.current } as const
  }),
  dependencies: [FetchHttpClient.layer]
}) {}

