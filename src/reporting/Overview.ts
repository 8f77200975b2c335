/**
 * One client's month at a glance, for the reseller's console: billed PLN and USD (the month's rows
 * plus the adjustments booked into it, the same sums as the month summary), what OpenRouter cost for
 * those rows at the same NBP rates without the markup (billing's `Pricing`), the margin as their
 * exact difference, the month's state (closed, or whether `close` would accept it now), how
 * reconciliation stands for its completed UTC days, the last batch run, pending costs and the
 * outbox's quarantine, and `/ready` as anyone may see it.
 */
import { BigDecimal, Clock, Effect } from "effect"
import { MonthOverview, OverviewAlert, OverviewReady, OverviewReconciliation, OverviewState } from "../api/OverviewApi.js"
import { Months } from "../billing/Months.js"
import { openRouterPln } from "../billing/Pricing.js"
import { ReconciliationGate } from "../billing/ReconciliationGate.js"
import { adjustmentAsBilled } from "../billing/Statement.js"
import { totalsOf } from "../billing/Summary.js"
import { SummaryRepo } from "../billing/SummaryRepo.js"
import { formatDecimal, roundHalfUp } from "../domain/Money.js"
import { dayOf, dayWindow, daysFrom, addDays, firstDay, lastDay, monthRange } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { quiet, Readiness } from "../platform/Readiness.js"
import { Ledger } from "../store/Ledger.js"

/** margin / billed × 100, half up to 2 decimals; null when nothing is billed. */
export const marginPercent = (margin: BigDecimal.BigDecimal, billed: BigDecimal.BigDecimal): string | null =>
  BigDecimal.isZero(billed)
    ? null
    : formatDecimal(roundHalfUp(BigDecimal.unsafeDivide(BigDecimal.multiply(margin, BigDecimal.fromBigInt(100n)), billed), 2), 2)

export class Overview extends Effect.Service<Overview>()("mai-usage/Overview", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const repo = yield* SummaryRepo
    const months = yield* Months
    const gate = yield* ReconciliationGate
    const ledger = yield* Ledger
    const readiness = yield* Readiness
    const org = config.clientOrgId
    const tz = config.dailyBatchTimeZone
    const failed = (e: { readonly message: string }) => ({ message: e.message })

    /** Reconciliation of the month's completed UTC days (OpenRouter reports UTC days). */
    const reconciliation = (month: string) =>
      Effect.gen(function*() {
        const yesterdayUtc = addDays(dayOf(yield* Clock.currentTimeMillis, "UTC"), -1)
        const last = lastDay(month) < yesterdayUtc ? lastDay(month) : yesterdayUtc
        if (last < firstDay(month)) {
          return new OverviewReconciliation({ configured: false, daysOk: 0, daysMissing: 0, daysUnreconciled: 0, missing: [], unreconciled: [] })
        }
        const r = yield* gate.ofDays(firstDay(month), last)
        const days = daysFrom(firstDay(month), last).length
        return new OverviewReconciliation({
          configured: r.configured,
          daysOk: r.configured ? days - r.missing.length - r.unreconciled.length : 0,
          daysMissing: r.missing.length,
          daysUnreconciled: r.unreconciled.length,
          missing: r.missing,
          unreconciled: r.unreconciled
        })
      })

    /** `month` is YYYY-MM (validated by the caller). */
    const month = (month: string) =>
      Effect.gen(function*() {
        const range = monthRange(month)
        const window = { clientOrgId: org, start: dayWindow(range.from, tz).start, end: dayWindow(range.to, tz).end }
        const [billed, adjustments, closing, lastRun, recon, pendingCosts, quarantinedRows, ready] = yield* Effect.all([
          repo.billedRows(range),
          repo.adjustmentsIn(month),
          repo.closing(month),
          repo.lastRun(),
          reconciliation(month),
          ledger.pendingCount(window),
          ledger.quarantinedCount(),
          readiness.run
        ], { concurrency: "unbounded" }).pipe(Effect.mapError(failed))
        const rows = [...billed, ...adjustments.map(adjustmentAsBilled)]
        const totals = totalsOf(rows)
        const billedPln = BigDecimal.unsafeFromString(totals.costPln)
        const cost = openRouterPln(rows)
        const margin = BigDecimal.subtract(billedPln, cost)
        const closability = closing === undefined ? yield* Effect.mapError(months.closable(month), failed) : undefined
        // The month's budget alerts (each threshold once per budget and month), oldest first.
        const alerts = (yield* Effect.mapError(repo.alerts(1000), failed)).filter((a) => a.month === month).reverse()
        return new MonthOverview({
          month,
          clientOrgId: org,
          billedPln: totals.costPln,
          billedUsd: totals.costUsd,
          openRouterPln: formatDecimal(cost, 2),
          marginPln: formatDecimal(margin, 2),
          marginPercent: marginPercent(margin, billedPln),
          requests: totals.requests,
          state: new OverviewState({
            status: closing === undefined ? "open" : "closed",
            closable: closability?.closable ?? false,
            refusal: closability?.refusal ?? null,
            needsAcceptance: closability?.needsAcceptance ?? false,
            closedAt: closing?.closedAt ?? null,
            closedBy: closing?.closedBy ?? null
          }),
          reconciliation: recon,
          lastBatchRun: lastRun,
          ready: new OverviewReady(quiet(ready)),
          pendingCosts,
          quarantinedRows,
          budgetAlerts: alerts.map((a) =>
            new OverviewAlert({ scope: a.subject === "" ? a.scope : `${a.scope}: ${a.subject}`, threshold: a.threshold, at: a.at })
          )
        })
      })

    return { month } as const
  })
}) {}
