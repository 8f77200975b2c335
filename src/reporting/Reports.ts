/**
 * What the reporting API and the dashboard show, read through billing's services (never its
 * tables): the billed rows of a period, the month's figures, and today's usage so far, priced by
 * billing's one `Pricing` at the latest NBP table as an indication.
 */
import { Clock, DateTime, Duration, Effect } from "effect"
import { DayHistory, MonthState } from "../api/AccountingModel.js"
import { DailyRow, IndicativeRate, MonthSummary, TodayRow, UnbilledDay } from "../api/UsageModel.js"
import { CATCH_UP_DAYS } from "../billing/Days.js"
import { MarkupHistory } from "../billing/MarkupHistory.js"
import { priceRow, totals } from "../billing/Pricing.js"
import { adjustmentAsBilled, adjustmentLine, closingOf } from "../billing/Statement.js"
import { summarise, totalsOf } from "../billing/Summary.js"
import { type RowFilter, SummaryRepo } from "../billing/SummaryRepo.js"
import { formatUsd } from "../domain/Money.js"
import { addDays, dayOf, dayWindow, daysFrom, monthRange } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { NbpRate } from "../rates/NbpRate.js"
import { SummaryDbError } from "../store/SummaryDb.js"
import { UsageStore } from "../store/UsageStore.js"

/** How long today's figures wait for NBP before answering in USD only. */
const RATE_WAIT = Duration.seconds(4)

const byUserModel = (a: { readonly user: string; readonly model: string }, b: { readonly user: string; readonly model: string }) =>
  a.user === b.user ? (a.model < b.model ? -1 : 1) : a.user < b.user ? -1 : 1

export class Reports extends Effect.Service<Reports>()("mai-usage/Reports", {
  effect: Effect.gen(function*() {
    const { config, markups, nbp, repo, store } = yield* Effect.all({
      repo: SummaryRepo,
      config: AppConfig,
      store: UsageStore,
      nbp: NbpRate,
      markups: MarkupHistory
    })
    const org = config.clientOrgId
    const tz = config.dailyBatchTimeZone

    /** The billed rows of a period, as the API shows them. */
    const rows = (filter: RowFilter): Effect.Effect<ReadonlyArray<DailyRow>, SummaryDbError> =>
      Effect.map(repo.billedRows(filter), (rs) => rs.map((r) => r.row))

    /**
     * Finished days of the month with usage in the store and no successful run: invisible in the
     * billed figures, so listed with the command that bills them. One store query per such day;
     * a normal month has none (every day has its run).
     */
    const unbilledDays = (month: string) =>
      Effect.gen(function*() {
        const { from, to } = monthRange(month)
        const todayDay = dayOf(yield* Clock.currentTimeMillis, tz)
        const last = to < todayDay ? to : addDays(todayDay, -1)
        if (last < from) return []
        const succeeded = yield* repo.succeededDays(from, last)
        const candidates = daysFrom(from, last).filter((d) => !succeeded.has(d))
        const found: Array<UnbilledDay> = []
        for (const day of candidates) {
          const w = dayWindow(day, tz)
          const aggregates = yield* store.aggregate({ clientOrgId: org, start: w.start, end: w.end })
          if (aggregates.length === 0) continue
          found.push(new UnbilledDay({
            date: day,
            requests: aggregates.reduce((n, a) => n + a.requests, 0),
            costUsd: formatUsd(aggregates.reduce((n, a) => n + a.costNusd, 0n)),
            withinCatchUp: day >= addDays(todayDay, -CATCH_UP_DAYS),
            command: `mai-usage batch --run-now --date ${day}`
          }))
        }
        return found
      })

    /** `month` is YYYY-MM (validated by the caller). */
    const monthSummary = (month: string) =>
      Effect.gen(function*() {
        const range = monthRange(month)
        const [billed, last, lastOk, adjustments, closing, history, unbilled] = yield* Effect.all([
          repo.billedRows(range),
          repo.lastRun(),
          repo.lastRun({ status: "succeeded" }),
          repo.adjustmentsIn(month),
          repo.closing(month),
          repo.dayHistory(range.from, range.to),
          unbilledDays(month)
        ]).pipe(Effect.mapError((e) => new SummaryDbError({ message: e.message })))
        const adjusted = adjustments.map(adjustmentAsBilled)
        const own = summarise(billed)
        const standing = last !== null && last.status === "failed"
          ? yield* repo.lastRun({ status: "succeeded", usageDate: last.usageDate })
          : null
        return new MonthSummary({
          month,
          clientOrgId: org,
          ...own,
          // Totals include the adjustments for earlier months booked into this month.
          totals: totalsOf([...billed, ...adjusted]),
          usageTotals: own.totals,
          adjustments: adjustments.map(adjustmentLine),
          adjustmentsTotals: totalsOf(adjusted),
          state: new MonthState({
            status: closing === undefined ? "open" : "closed",
            closing: closing === undefined ? null : closingOf(closing)
          }),
          dayHistory: history.map((h) =>
            new DayHistory({
              date: h.usage_date,
              corrected: h.corrected_at !== null,
              correctedAt: h.corrected_at,
              lastRunStatus: h.last_status,
              lastRunError: h.last_error,
              lastRunFinishedAt: h.last_finished
            })
          ),
          lastBatchRun: last,
          lastSuccessfulRun: lastOk,
          standingRun: standing,
          unbilledDays: unbilled
        })
      })

    /**
     * Today's usage so far (the batch time zone's calendar day), priced like a billed day but at
     * the latest NBP table and the markup in force today; without a PLN figure when NBP does not
     * answer, never at an invented rate.
     */
    const today = Effect.gen(function*() {
      const now = yield* DateTime.now
      const date = dayOf(DateTime.toEpochMillis(now), tz)
      const window = dayWindow(date, tz)
      // The markup in force today (a change may be recorded with a later effective date).
      const markup = yield* markups.markupFor(date)
      const aggregates = yield* store.aggregate({ clientOrgId: org, start: window.start, end: window.end })
      const quote = yield* nbp.latest.pipe(
        Effect.timeoutFail({
          duration: RATE_WAIT,
          onTimeout: () => ({ message: `NBP did not answer within ${Duration.format(RATE_WAIT)}` })
        }),
        Effect.either
      )
      const rate = quote._tag === "Right" ? quote.right : undefined
      const sorted = [...aggregates].sort(byUserModel)
      const priced = rate === undefined ? undefined : sorted.map((a) => priceRow(a, rate, markup))
      const rows = sorted.map(({ costNusd, ...counts }, i) =>
        new TodayRow({ ...counts, costUsd: formatUsd(costNusd), costPln: priced === undefined ? null : priced[i].costPln })
      )
      const sum = (f: (r: TodayRow) => number) => rows.reduce((n, r) => n + f(r), 0)
      return {
        date,
        timeZone: tz,
        from: DateTime.formatIso(window.start),
        asOf: DateTime.formatIso(now),
        billed: false as const,
        markup,
        rate: rate === undefined
          ? null
          : new IndicativeRate({ rate: rate.rateText, rateTable: rate.table, rateDate: rate.effectiveDate, stale: rate.stale === true }),
        rateError: quote._tag === "Left" ? `No PLN figure: the NBP rate is not available (${quote.left.message})` : null,
        totals: {
          requests: sum((r) => r.requests),
          inputTokens: sum((r) => r.inputTokens),
          outputTokens: sum((r) => r.outputTokens),
          totalTokens: sum((r) => r.totalTokens),
          cachedTokens: sum((r) => r.cachedTokens),
          reasoningTokens: sum((r) => r.reasoningTokens),
          costUsd: formatUsd(sorted.reduce((n, a) => n + a.costNusd, 0n)),
          // A sum of the rows' rounded amounts, like the billed totals.
          costPln: priced === undefined ? null : totals(priced).totalPln
        },
        rows
      }
    })

    return { rows, monthSummary, today } as const
  })
}) {}
