/**
 * What `serve` runs of the OpenRouter checks, each in its own fiber beside the batch scheduler,
 * never in the way of ingestion or the batch (every call has a timeout; failures are logged and
 * retried later):
 * - reconciliation (management key): at start-up when the last round is older than the last
 *   firing of `RECONCILE_CRON` (01:00 UTC), then at each firing, every completed day of the 30-day window; days that were
 *   unavailable are retried hourly until the next round;
 * - key drift (OPENROUTER_API_KEY): a snapshot at start-up and every hour;
 * - the destination check (management key): at start-up and every hour, logged, shown on /ready.
 * /ready gets two informational checks (never failing readiness): `reconciliation` and
 * `openrouterDestination`; /metrics the missing requests and USD per (day, model).
 */
import { Clock, Cron, Duration, Effect, Either, Layer, Ref, SubscriptionRef } from "effect"
import { formatUsd } from "../domain/Money.js"
import { completedWindow } from "../domain/Reconcile.js"
import { Metrics } from "../platform/Metrics.js"
import { Readiness } from "../platform/Readiness.js"
import { SummaryRepo } from "../billing/SummaryRepo.js"
import { type CheckState, make as makeDestinations } from "./Destinations.js"
import { takeSnapshot } from "./KeyDrift.js"
import { OpenRouterApi } from "./OpenRouterApi.js"
import { OpenRouterRepo } from "./OpenRouterRepo.js"
import { Reconciler } from "./Reconciler.js"

const HOUR = 3_600_000
/** Days before leaving OpenRouter's window when an unreconciled day of an open month is warned about. */
const EXPIRY_WARNING_DAYS = 5
const STATE_LAST_ROUND = "lastReconciliationRound"

export type SchedulePhase =
  | { readonly _tag: "Disabled" }
  | { readonly _tag: "Running"; readonly at: number }
  | { readonly _tag: "Sleeping"; readonly until: number; readonly retrying: ReadonlyArray<string> }

/** Reconciliation's schedule: daily at 01:00 UTC, once OpenRouter's day is complete. */
export const RECONCILE_CRON = Either.getOrThrow(Cron.parse("0 0 1 * * *", "UTC"))

/** The most recent firing of `RECONCILE_CRON` at or before `now` (`prev` is strictly before, to the second). */
export const lastFiring = (now: number) => Cron.prev(RECONCILE_CRON, new Date(Math.floor(now / 1_000) * 1_000 + 1_000)).getTime()

const errorText = (e: unknown) => (typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e))

const reconciliationLoop = (phase: SubscriptionRef.SubscriptionRef<SchedulePhase>) =>
  Effect.gen(function*() {
    const reconciler = yield* Reconciler
    const repo = yield* OpenRouterRepo
    const runDays = (days: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const unavailable: Array<string> = []
        for (const day of days) {
          const r = yield* reconciler.reconcile(day).pipe(
            Effect.catchAllCause((cause) =>
              Effect.as(Effect.logError("reconciliation failed", { day, error: errorText(cause) }), { status: "unavailable" as const })
            )
          )
          if (r.status === "unavailable") unavailable.push(day)
        }
        return unavailable
      })

    let retrying: ReadonlyArray<string> = []
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const firing = lastFiring(now)
      const last = (yield* repo.getState(STATE_LAST_ROUND).pipe(Effect.orElseSucceed(() => undefined))) as number | undefined
      if (last === undefined || last < firing) {
        yield* SubscriptionRef.set(phase, { _tag: "Running", at: now })
        retrying = yield* runDays(completedWindow(now))
        yield* repo.setState(STATE_LAST_ROUND, now).pipe(Effect.catchAll((e) => Effect.logWarning("could not record the round", { error: e.message })))
      } else if (retrying.length > 0) {
        yield* SubscriptionRef.set(phase, { _tag: "Running", at: now })
        yield* Effect.logInfo("retrying unavailable reconciliation days", { days: retrying })
        retrying = yield* runDays(retrying)
      }
      const after = yield* Clock.currentTimeMillis
      const next = Cron.next(RECONCILE_CRON, new Date(after)).getTime()
      const until = retrying.length > 0 ? Math.min(after + HOUR, next) : next
      yield* SubscriptionRef.set(phase, { _tag: "Sleeping", until, retrying })
      yield* Effect.sleep(Duration.millis(Math.max(1_000, until - after)))
    }
  })

const hourly = <R>(name: string, task: Effect.Effect<unknown, unknown, R>) =>
  Effect.gen(function*() {
    while (true) {
      yield* task.pipe(Effect.catchAllCause((cause) => Effect.logWarning(`${name} failed`, { error: errorText(cause) })))
      yield* Effect.sleep(Duration.hours(1))
    }
  })

/**
 * The loops above, forked for the service's lifetime. `phase` is the reconciliation loop's (tests
 * wait for the start-up round with it); `destinationCheck` the last Broadcast destination check.
 */
export class OpenRouterSchedule extends Effect.Service<OpenRouterSchedule>()("mai-usage/OpenRouterSchedule", {
  scoped: Effect.gen(function*() {
    const api = yield* OpenRouterApi
    const phase = yield* SubscriptionRef.make<SchedulePhase>({ _tag: "Disabled" })
    const destinationCheck = yield* Ref.make<CheckState | null>(null)
    if (api.hasManagementKey) {
      yield* SubscriptionRef.set(phase, { _tag: "Running", at: yield* Clock.currentTimeMillis })
      yield* Effect.forkScoped(reconciliationLoop(phase))
      const destinations = yield* makeDestinations
      const check = Effect.gen(function*() {
        const at = new Date(yield* Clock.currentTimeMillis).toISOString()
        const outcome = yield* Effect.either(destinations.check())
        if (outcome._tag === "Left") {
          yield* Ref.set(destinationCheck, { at, report: null, error: outcome.left.message })
          return yield* Effect.logWarning("Broadcast destination check: OpenRouter could not be asked", { error: outcome.left.message })
        }
        const report = outcome.right
        yield* Ref.set(destinationCheck, { at, report, error: null })
        for (const p of report.problems) yield* Effect.logWarning(`Broadcast destination check: ${p}`)
        for (const f of report.findings) yield* Effect.logWarning(`Broadcast destination check: ${f.severity}: ${f.message}`)
        if (report.ok) yield* Effect.logInfo("Broadcast destination check: ok", { destinations: report.destinations.length, webhooksUsed: report.webhooksUsed })
      })
      yield* Effect.forkScoped(hourly("Broadcast destination check", check))
    }
    if (api.hasApiKey) yield* Effect.forkScoped(hourly("key drift snapshot", takeSnapshot))
    return { phase, destinationCheck }
  }),
  dependencies: [OpenRouterApi.Default, OpenRouterRepo.Default, Reconciler.Default]
}) {}

const Observability = Layer.effectDiscard(
  Effect.gen(function*() {
    const { api, books, metrics, readiness, repo, schedule } = yield* Effect.all({
      books: SummaryRepo,
      readiness: Readiness,
      metrics: Metrics,
      repo: OpenRouterRepo,
      api: OpenRouterApi,
      schedule: OpenRouterSchedule
    })
    const missingRequests = metrics.gauge(
      "mai_reconciliation_missing_requests",
      "Requests OpenRouter counted for the client's key that never reached the ledger, per UTC day and model (last successful check)",
      ["date", "model"]
    )
    const missingUsd = metrics.gauge(
      "mai_reconciliation_missing_usd",
      "USD OpenRouter counted for the client's key beyond what reached the ledger, per UTC day and model (last successful check)",
      ["date", "model"]
    )
    const otherRequests = metrics.gauge(
      "mai_reconciliation_other_keys_requests",
      "Requests the ledger received for keys that are not the client's, per UTC day (reported apart, never compared)",
      ["date"]
    )
    const windowDays = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const w = completedWindow(now)
      return repo.days(w[0], w[w.length - 1])
    })
    metrics.onScrape(
      windowDays.pipe(
        Effect.tap((days) =>
          Effect.sync(() => {
            missingRequests.clear()
            missingUsd.clear()
            otherRequests.clear()
            for (const d of days) {
              if (d.otherKeys.requests > 0) otherRequests.set(d.otherKeys.requests, { date: d.date })
              for (const m of d.models) {
                missingRequests.set(m.missingRequests, { date: d.date, model: m.model })
                missingUsd.set(Number(formatUsd(m.missingNusd)), { date: d.date, model: m.model })
              }
            }
          })
        ),
        Effect.catchAll((e) => Effect.logWarning("reconciliation metrics not refreshed", { error: e.message })),
        Effect.asVoid
      )
    )
    readiness.register(
      "reconciliation",
      Effect.gen(function*() {
        if (!api.hasManagementKey) return { ok: true, configured: false }
        const days = yield* windowDays
        const count = (s: string) => days.filter((d) => d.status === s).length
        const phase = yield* SubscriptionRef.get(schedule.phase)
        const checked = days.map((d) => d.checkedAt).sort()
        // Days of open months about to leave OpenRouter's 30-day window unreconciled: after that
        // they can never be reconciled, and their month's close needs an acceptance.
        const window = completedWindow(yield* Clock.currentTimeMillis)
        const closed = new Set((yield* books.closings.pipe(Effect.orElseSucceed(() => []))).map((c) => c.month))
        const stored = new Map(days.map((d) => [d.date, d]))
        const leaving = window.slice(0, EXPIRY_WARNING_DAYS).filter((d) => {
          const s = stored.get(d)
          return !closed.has(d.slice(0, 7)) && (s === undefined || (s.status === "unavailable" && s.models.length === 0))
        })
        return {
          ok: true,
          configured: true,
          status: leaving.length > 0 ? "degraded" : "ok",
          ...(leaving.length > 0 ? { leavingWindowUnreconciled: leaving, reconcile: `mai-usage reconcile --from ${leaving[0]} --to ${leaving[leaving.length - 1]}` } : {}),
          lastCheckAt: checked.length === 0 ? null : checked[checked.length - 1],
          days: { ok: count("ok"), missing: count("missing"), extra: count("extra"), unavailable: count("unavailable") },
          missingRequests: days.flatMap((d) => d.models).reduce((n, m) => n + m.missingRequests, 0),
          missingDays: days.filter((d) => d.status === "missing").map((d) => d.date),
          next: phase._tag === "Sleeping" ? new Date(phase.until).toISOString() : phase._tag
        }
      }).pipe(Effect.catchAll((e) => Effect.succeed({ ok: true, error: e.message })))
    )
    readiness.register(
      "openrouterDestination",
      Effect.gen(function*() {
        if (!api.hasManagementKey) return { ok: true, configured: false }
        const state = yield* Ref.get(schedule.destinationCheck)
        if (state === null) return { ok: true, configured: true, checkedAt: null }
        if (state.report === null) return { ok: true, configured: true, checkedAt: state.at, error: state.error }
        return {
          ok: true,
          configured: true,
          checkedAt: state.at,
          lossFree: state.report.ok,
          problems: [...state.report.problems, ...state.report.findings.map((f) => f.message)],
          webhooksUsed: state.report.webhooksUsed
        }
      })
    )
  })
)

/** For `serve`: the API client, the repository, the reconciler, their schedule and checks. */
export const OpenRouterServerLive = Observability.pipe(
  Layer.provideMerge(Layer.mergeAll(OpenRouterSchedule.Default, Reconciler.Default, OpenRouterApi.Default, OpenRouterRepo.Default))
)
