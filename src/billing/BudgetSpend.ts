/**
 * What a Warsaw month has cost so far, per ledger user, for budgets: the month's billed PLN (its
 * daily rows and the adjustments booked into it) plus the indicative PLN of its days without a
 * successful run (today, and any day not yet billed), from the usage store, priced by the one
 * `Pricing` at the latest NBP table and the markup in force today, as today's figures are. A past
 * month is taken whole (as at its end). Without an NBP rate the unbilled days have no PLN figure:
 * the spend is then the billed part only (never an invented rate), and says so.
 */
import { BigDecimal, Clock, Effect } from "effect"
import { dayOf, dayWindow, daysFrom, monthRange } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { NbpRate } from "../rates/NbpRate.js"
import type { SummaryDbError } from "../store/SummaryDb.js"
import { type UsageStoreError, UsageStore } from "../store/UsageStore.js"
import { MarkupHistory } from "./MarkupHistory.js"
import { priceRow } from "./Pricing.js"
import { SummaryRepo } from "./SummaryRepo.js"

export interface MonthSpend {
  readonly month: string
  /** PLN per ledger user (an id or an e-mail, as OpenRouter's `user` came) */
  readonly byUser: ReadonlyMap<string, BigDecimal.BigDecimal>
  /** days of the month priced as an indication (no successful run yet) that had usage */
  readonly indicativeDays: ReadonlyArray<string>
  /** set when unbilled usage could not be priced (NBP unavailable): the spend is the billed part only */
  readonly unpriced: string | null
}

const add = (m: Map<string, BigDecimal.BigDecimal>, user: string, pln: string) =>
  m.set(user, BigDecimal.sum(m.get(user) ?? BigDecimal.fromBigInt(0n), BigDecimal.unsafeFromString(pln)))

export class BudgetSpend extends Effect.Service<BudgetSpend>()("mai-usage/BudgetSpend", {
  effect: Effect.gen(function*() {
    const { config, markups, nbp, repo, store } = yield* Effect.all({
      config: AppConfig,
      repo: SummaryRepo,
      store: UsageStore,
      nbp: NbpRate,
      markups: MarkupHistory
    })
    const tz = config.dailyBatchTimeZone
    const org = config.clientOrgId

    const ofMonth = (month: string): Effect.Effect<MonthSpend, SummaryDbError | UsageStoreError> =>
      Effect.gen(function*() {
        const { from, to } = monthRange(month)
        const today = dayOf(yield* Clock.currentTimeMillis, tz)
        const byUser = new Map<string, BigDecimal.BigDecimal>()
        if (from > today) return { month, byUser, indicativeDays: [], unpriced: null }
        const [billed, adjustments] = yield* Effect.all([repo.billedRows({ from, to }), repo.adjustmentsIn(month)])
        for (const r of billed) add(byUser, r.row.user, r.row.costPln)
        for (const a of adjustments) add(byUser, a.user, a.costPln)
        const last = to < today ? to : today
        const succeeded = yield* repo.succeededDays(from, last)
        const open = daysFrom(from, last).filter((d) => !succeeded.has(d))
        const usage = yield* Effect.forEach(open, (day) => {
          const w = dayWindow(day, tz)
          return Effect.map(store.aggregate({ clientOrgId: org, start: w.start, end: w.end }), (rows) => ({ day, rows }))
        })
        const withUsage = usage.filter((u) => u.rows.length > 0)
        if (withUsage.length === 0) return { month, byUser, indicativeDays: [], unpriced: null }
        const quote = yield* Effect.either(nbp.latest)
        if (quote._tag === "Left") {
          return { month, byUser, indicativeDays: [], unpriced: `no NBP rate for the unbilled days: ${quote.left.message}` }
        }
        const markup = yield* markups.markupFor(last)
        for (const u of withUsage) for (const a of u.rows) add(byUser, a.user, priceRow(a, quote.right, markup).costPln)
        return { month, byUser, indicativeDays: withUsage.map((u) => u.day), unpriced: null }
      })

    return { ofMonth } as const
  })
}) {}
