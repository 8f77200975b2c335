/**
 * Closing and reopening months. Close: refused, naming the days, unless every day of the month is
 * over and has a successful batch run; records when, by whom, the totals and the SHA-256 of the
 * statement CSV. Reopen: only while no later month is closed, with a reason; both kept in the audit
 * log. Both hold the batch lock, so no batch run interleaves with them (a run checks whether its
 * day's month is closed under the same lock).
 */
import { Clock, Effect, Schema } from "effect"
import { BatchLock } from "./BatchLock.js"
import { ReconciliationGate } from "./ReconciliationGate.js"
import type { BatchBusy } from "./RunRecord.js"
import { AppConfig } from "../platform/Config.js"
import { daysFrom, dayOf, firstDay, isMonth, lastDay } from "../domain/WarsawDay.js"
import { type AuditEntry, type ClosedBy, type ClosingRecord, SummaryRepo } from "./SummaryRepo.js"
import { sha256, Statements } from "./Statements.js"

/** Refused as asked (bad month, preconditions not met, already closed…); nothing changed. */
export class MonthRefused extends Schema.TaggedError<MonthRefused>()("MonthRefused", {
  message: Schema.String
}) {}

/** The summary DB failed, or the batch lock stayed busy; nothing changed. */
export class MonthUnavailable extends Schema.TaggedError<MonthUnavailable>()("MonthUnavailable", {
  message: Schema.String
}) {}

export type MonthError = MonthRefused | MonthUnavailable

export interface Reopened {
  readonly month: string
  readonly at: string
  /** adjustment rows of the month's days folded back into its rows */
  readonly folded: number
}

export interface Closability {
  readonly closable: boolean
  /** why `close` would refuse it now (naming the days) */
  readonly refusal: string | null
  /** refused only for reconciliation: closing with acceptUnreconciled and a reason would go through */
  readonly needsAcceptance: boolean
}

export interface MonthsShape {
  readonly close: (
    month: string,
    by: ClosedBy,
    reason?: string,
    options?: { readonly acceptUnreconciled?: boolean; readonly closerName?: string }
  ) => Effect.Effect<ClosingRecord, MonthError>
  readonly reopen: (month: string, by: ClosedBy, reason: string) => Effect.Effect<Reopened, MonthError>
  /** Whether the month could be closed now (nothing changes): refused as `close` would refuse it, or not. */
  readonly closable: (month: string) => Effect.Effect<Closability, MonthError>
  readonly closings: Effect.Effect<ReadonlyArray<ClosingRecord>, MonthUnavailable>
  readonly audit: (month?: string) => Effect.Effect<ReadonlyArray<AuditEntry>, MonthUnavailable>
}

/** `["2025-11-03", "2025-11-04", "2025-11-05", "2025-11-09"]` → `2025-11-03 to 2025-11-05, 2025-11-09` */
export const describeDays = (days: ReadonlyArray<string>): string => {
  const parts: Array<string> = []
  let i = 0
  while (i < days.length) {
    let j = i
    while (j + 1 < days.length && Date.parse(days[j + 1]) - Date.parse(days[j]) === 86_400_000) j++
    parts.push(j === i ? days[i] : `${days[i]} to ${days[j]}`)
    i = j + 1
  }
  return parts.join(", ")
}

const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* SummaryRepo
  const lock = yield* BatchLock
  const gate = yield* ReconciliationGate
  const statements = yield* Statements
  const unavailable = (e: { readonly message: string }) => new MonthUnavailable({ message: e.message })

  // The one batch lock: no run interleaves with a close or a reopen (a run checks whether its
  // day's month is closed under the same lock).
  const withBatchLock = <A>(month: string, body: Effect.Effect<A, MonthError>) =>
    lock.holding(firstDay(month), body).pipe(
      Effect.catchTag("BatchBusy", (e: BatchBusy) => Effect.fail(new MonthUnavailable({ message: `${e.message}; try again` })))
    )

  const checkMonth = (month: string) =>
    isMonth(month) ? Effect.void : Effect.fail(new MonthRefused({ message: `invalid month ${JSON.stringify(month)}: expected YYYY-MM` }))

  /**
   * Reconcile before you invoice: with reconciliation configured, a day of the month `missing` or
   * never reconciled refuses the close, naming the days, unless the closer accepts it with a reason.
   * What the close records about it: "reconciled", "not reconciled", or the days accepted.
   */
  const reconciliationAtClose = (month: string, days: ReadonlyArray<string>, reason: string | undefined, accept: boolean) =>
    Effect.gen(function*() {
      const r = yield* Effect.mapError(gate.ofDays(days[0], days[days.length - 1]), unavailable)
      if (!r.configured) return "not reconciled (no OpenRouter management key)"
      if (r.missing.length === 0 && r.unreconciled.length === 0) return "reconciled with OpenRouter"
      const found = [
        ...(r.missing.length > 0 ? [`OpenRouter counted requests the ledger never received on ${describeDays(r.missing)}`] : []),
        ...(r.unreconciled.length > 0 ? [`${describeDays(r.unreconciled)} ${r.unreconciled.length === 1 ? "was" : "were"} never reconciled`] : [])
      ].join("; ")
      if (!accept) {
        return yield* new MonthRefused({
          message: `cannot close ${month}: ${found}; run \`mai-usage reconcile --from ${days[0]} --to ${days[days.length - 1]}\` ` +
            "(OpenRouter keeps 30 completed days), or close with --accept-unreconciled --reason …"
        })
      }
      if (reason === undefined || reason.trim() === "") {
        return yield* new MonthRefused({ message: `closing ${month} with unreconciled days needs a reason (--reason …): ${found}` })
      }
      return `accepted unreconciled: ${found}`
    })

  /** The closer's name as recorded: trimmed, one line, at most 120 characters; null when none was given. */
  const closerNameOf = (name: string | undefined) => {
    const one = (name ?? "").replace(/\s+/g, " ").trim().slice(0, 120)
    return one === "" ? null : one
  }

  /**
   * Whether `month` may be closed now, and why not: already closed, days not over, days without a
   * successful run, or (with reconciliation configured) days missing or never reconciled, which
   * `acceptUnreconciled` with a reason lets through. On success, what the close records about
   * reconciliation. The close runs it under the batch lock; `closable` asks it without closing.
   */
  const preconditions = (month: string, now: number, reason: string | undefined, accept: boolean) =>
    Effect.gen(function*() {
      const closings = yield* Effect.mapError(repo.closings, unavailable)
      const already = closings.find((c) => c.month === month)
      if (already !== undefined) {
        return yield* new MonthRefused({ message: `${month} is already closed (at ${already.closedAt} by ${already.closedBy})` })
      }
      const today = dayOf(now, config.dailyBatchTimeZone)
      const days = daysFrom(firstDay(month), lastDay(month))
      const notOver = days.filter((d) => d >= today)
      if (notOver.length > 0) {
        return yield* new MonthRefused({
          message: `cannot close ${month}: ${describeDays(notOver)} ${notOver.length === 1 ? "is" : "are"} not over yet (today is ${today} in ${config.dailyBatchTimeZone})`
        })
      }
      const summarised = yield* Effect.mapError(repo.succeededDays(days[0], days[days.length - 1]), unavailable)
      const missing = days.filter((d) => !summarised.has(d))
      if (missing.length > 0) {
        return yield* new MonthRefused({
          message: `cannot close ${month}: no successful batch run for ${describeDays(missing)}; run ` +
            `\`mai-usage batch --run-now --from ${missing[0]} --to ${missing[missing.length - 1]}\` first`
        })
      }
      return yield* reconciliationAtClose(month, days, reason, accept)
    })

  const closable: MonthsShape["closable"] = (month) =>
    Effect.gen(function*() {
      yield* checkMonth(month)
      const now = yield* Clock.currentTimeMillis
      const plain = yield* Effect.either(preconditions(month, now, undefined, false))
      if (plain._tag === "Right") return { closable: true, refusal: null, needsAcceptance: false }
      if (plain.left._tag === "MonthUnavailable") return yield* plain.left
      // Refused as it stands: does accepting the unreconciled days (with a reason) let it through?
      const accepted = yield* Effect.either(preconditions(month, now, "accepted", true))
      return { closable: false, refusal: plain.left.message, needsAcceptance: accepted._tag === "Right" }
    })

  const close: MonthsShape["close"] = (month, by, reason, options = {}) =>
    Effect.gen(function*() {
      yield* checkMonth(month)
      return yield* withBatchLock(
        month,
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const reconciliation = yield* preconditions(month, now, reason, options.acceptUnreconciled === true)
          const closedAt = new Date(now).toISOString()
          const draft: ClosingRecord = {
            month,
            closedAt,
            closedBy: by,
            reason: reason ?? null,
            requests: 0,
            totalTokens: 0,
            costUsd: "0",
            costPln: "0",
            statementSha256: "",
            reconciliation,
            closerName: closerNameOf(options.closerName)
          }
          // The statement as it will read once closed: its status line names this close.
          const statement = yield* Effect.mapError(statements.build(month, draft), unavailable)
          const record: ClosingRecord = {
            ...draft,
            requests: statement.totals.requests,
            totalTokens: statement.totals.totalTokens,
            costUsd: statement.totals.costUsd,
            costPln: statement.totals.costPln
          }
          const final = yield* Effect.mapError(statements.build(month, record), unavailable)
          // The canonical CSV (English, default dialect): the form whose hash closed months have always recorded.
          const closing = { ...record, statementSha256: sha256(statements.csv(final, "rfc4180", "en")) }
          yield* Effect.mapError(repo.insertClosing(closing), unavailable)
          yield* Effect.logInfo("month closed", { month, by, costPln: closing.costPln, sha256: closing.statementSha256 })
          return closing
        })
      )
    })

  const reopen: MonthsShape["reopen"] = (month, by, reason) =>
    Effect.gen(function*() {
      yield* checkMonth(month)
      if (reason.trim() === "") return yield* new MonthRefused({ message: `reopening ${month} needs a reason (--reason …)` })
      return yield* withBatchLock(
        month,
        Effect.gen(function*() {
          const closings = yield* Effect.mapError(repo.closings, unavailable)
          if (!closings.some((c) => c.month === month)) {
            return yield* new MonthRefused({ message: `${month} is not closed` })
          }
          const later = closings.filter((c) => c.month > month).map((c) => c.month)
          if (later.length > 0) {
            return yield* new MonthRefused({
              message: `cannot reopen ${month}: the later month${later.length === 1 ? "" : "s"} ${later.join(", ")} ${
                later.length === 1 ? "is" : "are"
              } closed; reopen ${later.length === 1 ? "it" : "them"} first, newest first`
            })
          }
          const at = new Date(yield* Clock.currentTimeMillis).toISOString()
          const folded = yield* Effect.mapError(repo.reopen(month, at, by, reason.trim()), unavailable)
          yield* Effect.logInfo("month reopened", { month, by, reason: reason.trim(), folded })
          return { month, at, folded }
        })
      )
    })

  const months: MonthsShape = {
    close,
    closable,
    reopen,
    closings: Effect.mapError(repo.closings, unavailable),
    audit: (month) => Effect.mapError(repo.audit(month), unavailable)
  }
  return months
})

/** Over SummaryRepo, BatchLock, Statements, ReconciliationGate and AppConfig. */
export class Months extends Effect.Service<Months>()("mai-usage/Months", { effect: make }) {}
