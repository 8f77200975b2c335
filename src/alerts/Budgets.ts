/**
 * Budgets and their alerts. A budget is a monthly PLN amount for the client, a group or a user of
 * Open WebUI, with thresholds in per cent (default 50, 80, 100). An evaluation takes the month's
 * spend per ledger user from billing (`BudgetSpend`: billed plus the indicative PLN of days not yet
 * billed), sums it per budget (a user matched by id or e-mail, a group through the directory's
 * members) and records each threshold reached, once per subject and month (the summary DB's unique
 * key decides); each new one is sent through the configured channels, retried with back-off, every
 * attempt recorded and counted in /metrics. Sending never holds up anything else: `serve`
 * evaluates every 5 minutes and after each batch run in its own fiber, and delivers in another.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { BigDecimal, Clock, Duration, Effect, Either, FiberSet, Layer, Ref, Schedule, Schema } from "effect"
import { Alerts, AlertAttemptView, AlertView, BudgetStatus, BudgetView, Evaluation, LimitChangeView } from "../api/BudgetApi.js"
import { BudgetSpend, type MonthSpend } from "../billing/BudgetSpend.js"
import { type Budget, type BudgetScope, SummaryRepo } from "../billing/SummaryRepo.js"
import { Directory, lookup, type Snapshot } from "../directory/Directory.js"
import { OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { Reconciler } from "../openrouter/Reconciler.js"
import { formatDecimal, roundHalfUp } from "../domain/Money.js"
import { dayOf, monthOf } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { Metrics } from "../platform/Metrics.js"
import type { SummaryDbError } from "../store/SummaryDb.js"
import type { UsageStoreError } from "../store/UsageStore.js"
import { type AlertMessage, channelsOf } from "./Channels.js"
import { Enforcement } from "./Enforcement.js"
import { alertMessage } from "./Messages.js"

export const DEFAULT_THRESHOLDS: ReadonlyArray<number> = [50, 80, 100]
/** Attempts per channel and alert: the first, then retries after 1, 2, 4, 8 and 16 s. */
export const MAX_ATTEMPTS = 6
export const RETRY_BASE = Duration.seconds(1)

export class BudgetInvalid extends Schema.TaggedError<BudgetInvalid>()("BudgetInvalid", { message: Schema.String }) {}
export class BudgetNotFound extends Schema.TaggedError<BudgetNotFound>()("BudgetNotFound", { message: Schema.String }) {}

export interface BudgetRequest {
  readonly scope: BudgetScope
  readonly subject?: string | undefined
  readonly amountPln: string
  readonly thresholds?: ReadonlyArray<number> | undefined
}

/** A budget as asked for, checked: a positive PLN amount (at most 2 decimals), whole per cents 1–1000. */
export const checkBudget = (r: BudgetRequest, updatedAt: string): Either.Either<Budget, string> => {
  const subject = (r.subject ?? "").trim()
  if (r.scope === "client" && subject !== "") return Either.left("a client budget has no subject (leave it empty)")
  if (r.scope !== "client" && subject === "") {
    return Either.left(r.scope === "group" ? "a group budget needs the group's id or name" : "a user budget needs the user's id or e-mail")
  }
  if (subject.length > 256 || /[\u0000-\u001f]/.test(subject)) return Either.left("the subject must be one line of at most 256 characters")
  const amountText = r.amountPln.trim().replace(",", ".")
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(amountText)) {
    return Either.left(`the amount must be PLN with at most 2 decimals, e.g. 2000 or 2000.50; got ${JSON.stringify(r.amountPln.slice(0, 40))}`)
  }
  const amount = BigDecimal.unsafeFromString(amountText)
  if (!BigDecimal.isPositive(amount)) return Either.left("the amount must be greater than 0")
  const thresholds = [...(r.thresholds ?? DEFAULT_THRESHOLDS)]
  if (thresholds.length === 0 || thresholds.length > 10) return Either.left("give 1 to 10 thresholds")
  if (thresholds.some((t) => !Number.isInteger(t) || t < 1 || t > 1000)) return Either.left("each threshold must be a whole per cent from 1 to 1000")
  const sorted = [...new Set(thresholds)].sort((a, b) => a - b)
  return Either.right({ scope: r.scope, subject, amountPln: formatDecimal(amount, 2), thresholds: sorted, updatedAt })
}

/** The ledger users a budget covers; `undefined` when the directory cannot tell (an unknown group). */
export const coversOf = (b: Budget, snapshot: Snapshot | undefined): ((ledgerUser: string) => boolean) | string => {
  if (b.scope === "client") return () => true
  if (b.scope === "user") {
    const subject = b.subject.toLowerCase()
    const person = lookup(snapshot, b.subject)
    return (u) => u === b.subject || u.toLowerCase() === subject || (person !== undefined && lookup(snapshot, u)?.id === person.id)
  }
  if (snapshot === undefined) return "the user directory (DATABASE_URL) is not available: a group's members are unknown"
  const group = snapshot.groups.find((g) => g.id === b.subject) ?? snapshot.groups.find((g) => g.name === b.subject)
  if (group === undefined) return `no group ${JSON.stringify(b.subject)} in the user directory`
  const members = new Set(group.members)
  return (u) => {
    const person = lookup(snapshot, u)
    return person !== undefined && members.has(person.id)
  }
}

const ZERO = BigDecimal.fromBigInt(0n)
const HUNDRED = BigDecimal.fromBigInt(100n)

export class BudgetAlerts extends Effect.Service<BudgetAlerts>()("mai-usage/BudgetAlerts", {
  scoped: Effect.gen(function*() {
    const { config, directory, enforcement, metrics, repo, spend } = yield* Effect.all({
      config: AppConfig,
      enforcement: Enforcement,
      repo: SummaryRepo,
      spend: BudgetSpend,
      directory: Directory,
      metrics: Metrics
    })
    const channels = yield* channelsOf(config.alerts)
    const deliveries = yield* FiberSet.make()
    const attemptsTotal = metrics.counter(
      "mai_alert_attempts_total",
      "Delivery attempts of budget alerts, by channel (webhook, email) and status (sent, failed)",
      ["channel", "status"]
    )
    const alertsTotal = metrics.counter("mai_alerts_total", "Budget thresholds reached (each alerted once per subject and month)")
    const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
    const snapshot = Effect.map(directory.state, (s) => s.snapshot)

    const viewOf = (b: Budget, snap: Snapshot | undefined) => {
      const person = b.scope === "user" ? lookup(snap, b.subject) : undefined
      const group = b.scope === "group" ? snap?.groups.find((g) => g.id === b.subject || g.name === b.subject) : undefined
      return new BudgetView({
        scope: b.scope,
        subject: b.subject,
        name: person?.name ?? group?.name ?? null,
        email: person?.email ?? null,
        amountPln: b.amountPln,
        thresholds: b.thresholds,
        updatedAt: b.updatedAt
      })
    }

    const list = Effect.all([repo.budgets, snapshot]).pipe(Effect.map(([bs, snap]) => bs.map((b) => viewOf(b, snap))))

    const set = (r: BudgetRequest): Effect.Effect<BudgetView, BudgetInvalid | SummaryDbError> =>
      Effect.gen(function*() {
        const checked = checkBudget(r, yield* isoNow)
        if (Either.isLeft(checked)) return yield* new BudgetInvalid({ message: checked.left })
        yield* repo.setBudget(checked.right)
        return viewOf(checked.right, yield* snapshot)
      })

    const remove = (scope: BudgetScope, subject: string): Effect.Effect<void, BudgetNotFound | SummaryDbError> =>
      Effect.flatMap(repo.removeBudget(scope, subject.trim()), (removed) =>
        removed ? Effect.void : new BudgetNotFound({ message: `no ${scope} budget${subject === "" ? "" : ` for ${JSON.stringify(subject)}`}` }))

    const messageOf = (a: { scope: BudgetScope; subject: string; month: string; threshold: number; spendPln: string; amountPln: string; at: string }, snap: Snapshot | undefined): AlertMessage => {
      const v = viewOf({ scope: a.scope, subject: a.subject, amountPln: a.amountPln, thresholds: [], updatedAt: a.at }, snap)
      return alertMessage({
        ...a,
        clientOrgId: config.clientOrgId,
        clientName: config.invoice.clientName,
        name: v.name,
        email: v.email
      }, config.alerts.language)
    }

    /**
     * Every channel on its own: attempts with back-off, each recorded and counted; never fails.
     * `done`: attempts a channel already had (a delivery resumed after a restart continues them).
     */
    const deliver = (alertId: number, message: AlertMessage, done: ReadonlyMap<string, number> = new Map()): Effect.Effect<void> =>
      Effect.forEach(channels.filter((c) => (done.get(c.name) ?? 0) < MAX_ATTEMPTS), (channel) => {
        let attempt = done.get(channel.name) ?? 0
        const once = Effect.suspend(() => {
          attempt += 1
          const n = attempt
          return channel.send(message).pipe(
            Effect.either,
            Effect.flatMap((result) =>
              Effect.gen(function*() {
                const status = Either.isRight(result) ? "sent" as const : "failed" as const
                attemptsTotal.inc({ channel: channel.name, status })
                yield* repo.recordAttempt({
                  alertId,
                  channel: channel.name,
                  attempt: n,
                  at: yield* isoNow,
                  status,
                  error: Either.isLeft(result) ? result.left : null
                }).pipe(Effect.catchAll((e) => Effect.logWarning("alerts: an attempt could not be recorded", { error: e.message })))
                if (Either.isLeft(result)) return yield* Effect.fail(result.left)
              })
            )
          )
        })
        return once.pipe(
          Effect.retry(Schedule.exponential(RETRY_BASE).pipe(Schedule.intersect(Schedule.recurs(MAX_ATTEMPTS - 1 - (done.get(channel.name) ?? 0))))),
          Effect.catchAll((why) =>
            Effect.logWarning("alerts: an alert could not be delivered", { channel: channel.name, alertId, attempts: attempt, error: why })
          )
        )
      }, { concurrency: "unbounded", discard: true })

    /**
     * Deliveries a stopped process left unfinished (`serve` runs this once at start): each of the
     * latest alerts whose configured channel has no sent attempt and attempts left is sent again,
     * its attempts continuing where they stopped.
     */
    const resume = Effect.gen(function*() {
      const [records, snap] = yield* Effect.all([repo.alerts(100), snapshot])
      for (const a of records) {
        const done = new Map<string, number>()
        let open = false
        for (const c of channels) {
          const mine = a.attempts.filter((t) => t.channel === c.name)
          if (mine.some((t) => t.status === "sent")) done.set(c.name, MAX_ATTEMPTS)
          else {
            done.set(c.name, mine.length)
            if (mine.length < MAX_ATTEMPTS) open = true
          }
        }
        if (open) yield* FiberSet.run(deliveries, deliver(a.id, messageOf(a, snap), done))
      }
    })

    /**
     * Evaluates `month` (default: this Warsaw month) and sends what is due. `wait`: return once
     * every delivery has ended (the CLI); otherwise deliveries go on in the background (`serve`).
     * `record: false`: the figures only (the dashboard's view), nothing recorded or sent.
     */
    const evaluate = (
      month?: string,
      options: { readonly wait?: boolean; readonly record?: boolean } = {}
    ): Effect.Effect<Evaluation, SummaryDbError | UsageStoreError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const m = month ?? monthOf(dayOf(now, config.dailyBatchTimeZone))
        const budgets = yield* repo.budgets
        const at = new Date(now).toISOString()
        const current = m === monthOf(dayOf(now, config.dailyBatchTimeZone))
        if (budgets.length === 0) {
          // No budget: a limit enforcement set is lifted.
          if (options.record !== false && current) {
            const lift = enforcement.apply({ month: m, budget: undefined })
            if (options.wait === true) yield* lift
            else yield* FiberSet.run(deliveries, lift)
          }
          return new Evaluation({ month: m, asOf: at, indicativeDays: [], unpriced: null, budgets: [] })
        }
        const monthSpend: MonthSpend = yield* spend.ofMonth(m)
        const snap = yield* snapshot
        const sent: Array<Effect.Effect<void>> = []
        const statuses: Array<BudgetStatus> = []
        for (const b of budgets) {
          const covers = coversOf(b, snap)
          const view = viewOf(b, snap)
          if (typeof covers === "string") {
            statuses.push(new BudgetStatus({ budget: view, spendPln: null, percent: null, reached: [], alerted: [], note: covers }))
            continue
          }
          let total = ZERO
          for (const [user, pln] of monthSpend.byUser) if (covers(user)) total = BigDecimal.sum(total, pln)
          const amount = BigDecimal.unsafeFromString(b.amountPln)
          const spendPln = formatDecimal(total, 2)
          const percent = formatDecimal(roundHalfUp(BigDecimal.unsafeDivide(BigDecimal.multiply(total, HUNDRED), amount), 1), 1)
          const reached = b.thresholds.filter((t) =>
            BigDecimal.greaterThanOrEqualTo(BigDecimal.multiply(total, HUNDRED), BigDecimal.multiply(amount, BigDecimal.fromNumber(t)))
          )
          const alerted: Array<number> = []
          for (const threshold of options.record === false ? [] : reached) {
            const fired = { scope: b.scope, subject: b.subject, month: m, threshold, spendPln, amountPln: b.amountPln, at }
            const id = yield* repo.fireAlert(fired)
            if (id === undefined) continue
            alerted.push(threshold)
            alertsTotal.inc()
            sent.push(deliver(id, messageOf(fired, snap)))
          }
          statuses.push(new BudgetStatus({ budget: view, spendPln, percent, reached, alerted, note: monthSpend.unpriced }))
        }
        // Enforcement follows the current month's client budget (lifted when there is none).
        if (options.record !== false && current) {
          const client = statuses.find((s) => s.budget.scope === "client")
          sent.push(enforcement.apply({
            month: m,
            budget: client === undefined || client.spendPln === null ? undefined : { amountPln: client.budget.amountPln, spendPln: client.spendPln }
          }))
        }
        if (options.wait === true) yield* Effect.all(sent, { concurrency: "unbounded", discard: true })
        else for (const s of sent) yield* FiberSet.run(deliveries, s)
        return new Evaluation({
          month: m,
          asOf: at,
          indicativeDays: monthSpend.indicativeDays,
          unpriced: monthSpend.unpriced,
          budgets: statuses
        })
      })

    const alerts = (limit: number) =>
      Effect.gen(function*() {
        const [records, changes, snap] = yield* Effect.all([repo.alerts(limit), repo.limitChanges(limit), snapshot])
        return new Alerts({
          channels: channels.map((c) => c.name),
          alerts: records.map((a) =>
            new AlertView({
              id: a.id,
              scope: a.scope,
              subject: a.subject,
              name: viewOf({ scope: a.scope, subject: a.subject, amountPln: a.amountPln, thresholds: [], updatedAt: a.at }, snap).name,
              month: a.month,
              threshold: a.threshold,
              spendPln: a.spendPln,
              amountPln: a.amountPln,
              at: a.at,
              text: messageOf(a, snap).text,
              attempts: a.attempts.map((t) => new AlertAttemptView(t))
            })
          ),
          limitChanges: changes.map((c) => new LimitChangeView(c))
        })
      })

    return { list, set, remove, evaluate, alerts, resume, channels: channels.map((c) => c.name) } as const
  }),
  dependencies: [FetchHttpClient.layer]
}) {}

export const EVALUATE_EVERY = Duration.minutes(5)
const POLL = Duration.seconds(30)

/**
 * `serve`'s evaluations: every 5 minutes, and soon after each batch run that finished (the
 * scheduler's, the API's or a CLI's: the last run in the summary DB is looked at every 30 s; the
 * run's month is evaluated too, so the first days of a month settle the month before). Failures
 * are logged and tried again at the next turn; nothing waits for them.
 */
export const BudgetLoop = Effect.gen(function*() {
  const budgets = yield* BudgetAlerts
  const repo = yield* SummaryRepo
  const seen = yield* Ref.make<{ runId: number | null; at: number }>({ runId: null, at: 0 })
  const first = yield* repo.lastRun().pipe(Effect.map((r) => (r === null ? null : r.id)), Effect.orElseSucceed(() => null))
  yield* Ref.set(seen, { runId: first, at: 0 })
  yield* budgets.resume.pipe(Effect.catchAll((e) => Effect.logWarning("alerts: unfinished deliveries could not be resumed", { error: e.message })))
  const turn = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const last = yield* repo.lastRun()
    const before = yield* Ref.get(seen)
    const newRun = last !== null && last.id !== before.runId && last.status !== "running"
    if (!newRun && now - before.at < Duration.toMillis(EVALUATE_EVERY)) return
    yield* Ref.set(seen, { runId: last === null ? null : last.id, at: now })
    const evaluation = yield* budgets.evaluate()
    if (newRun && monthOf(last.usageDate) !== evaluation.month) yield* budgets.evaluate(monthOf(last.usageDate))
  }).pipe(Effect.catchAll((e) => Effect.logWarning("budgets: evaluation failed; tried again at the next turn", { error: e.message })))
  yield* Effect.repeat(turn, Schedule.spaced(POLL))
}).pipe(Effect.asVoid)



/** Budgets for `serve`: the service, billing's spend, enforcement, and the loop in its own fiber. */
export const BudgetsServerLive = Layer.scopedDiscard(Effect.forkScoped(BudgetLoop)).pipe(
  Layer.provideMerge(BudgetAlerts.Default),
  Layer.provideMerge(Layer.mergeAll(BudgetSpend.Default, Enforcement.Default)),
  // The same layers as reconciliation's (memoised: one instance of each in `serve`).
  Layer.provide(Layer.mergeAll(Reconciler.Default, OpenRouterApi.Default))
)
