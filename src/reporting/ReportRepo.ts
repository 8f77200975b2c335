/**
 * Reads the summary DB for the reporting API: the daily rows the batch wrote, the
 * month's figures built from them, and the batch runs. Read-only; every query is scoped to this
 * container's client organisation.
 */
import { Effect } from "effect"
import { AppConfig } from "../platform/Config.js"
import { monthRange } from "../domain/WarsawDay.js"
import { type PricedColumns, pricedFields, type TokenColumns, tokenCounts } from "../store/Rows.js"
import { SummaryDb, SummaryDbError } from "../store/SummaryDb.js"
import { type BatchRunRecord, toBatchRun } from "../api/BatchRun.js"
import { AccountingRepo } from "../billing/AccountingRepo.js"
import { DayHistory, MonthState } from "../api/AccountingModel.js"
import { adjustmentAsBilled, adjustmentLine, closingOf } from "../billing/Statement.js"
import { DailyRow, MonthSummary, type UnbilledDay } from "../api/UsageModel.js"
import { type BilledRow, summarise, totalsOf } from "../billing/Summary.js"

export interface RowFilter {
  /** inclusive, YYYY-MM-DD */
  readonly from: string
  /** inclusive, YYYY-MM-DD */
  readonly to: string
  readonly user?: string | undefined
  readonly model?: string | undefined
}

interface DailyUsageRecord extends TokenColumns, PricedColumns {
  readonly usage_date: string
  readonly user: string
  readonly model: string
  readonly requests: number
  readonly cost_nusd_text: string
}

const toBilledRow = (r: DailyUsageRecord): BilledRow => ({
  costNusd: BigInt(r.cost_nusd_text),
  row: new DailyRow({
    date: r.usage_date,
    user: r.user,
    model: r.model,
    requests: r.requests,
    ...tokenCounts(r),
    ...pricedFields(r)
  })
})

export class ReportRepo extends Effect.Service<ReportRepo>()("mai-usage/ReportRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SummaryDb
    const { clientOrgId } = yield* AppConfig
    const accounting = yield* AccountingRepo
    const failed = (what: string) => (e: unknown) =>
      new SummaryDbError({ message: `summary DB: cannot read ${what}: ${e instanceof Error ? e.message : String(e)}` })

    const billedRows = (filter: RowFilter) => {
      const conditions = [
        sql`client_org_id = ${clientOrgId}`,
        sql`usage_date >= ${filter.from}`,
        sql`usage_date <= ${filter.to}`
      ]
      if (filter.user !== undefined) conditions.push(sql`user = ${filter.user}`)
      if (filter.model !== undefined) conditions.push(sql`model = ${filter.model}`)
      return sql<DailyUsageRecord>`
        SELECT usage_date, user, model, requests, input_tokens, output_tokens, total_tokens, cached_tokens,
          reasoning_tokens, CAST(cost_nusd AS TEXT) AS cost_nusd_text, cost_usd, markup, rate, rate_table,
          rate_date, cost_pln
        FROM daily_usage WHERE ${sql.and(conditions)}
        ORDER BY usage_date, user, model`.pipe(
        Effect.mapError(failed("daily rows")),
        // A count beyond 2^53 says so (a clear error), rather than a defect and an empty 500.
        Effect.flatMap((records) => Effect.try({ try: () => records.map(toBilledRow), catch: failed("daily rows") }))
      )
    }

    const runs = (where: ReturnType<typeof sql.and>) =>
      sql<BatchRunRecord>`SELECT * FROM batch_runs WHERE ${where} ORDER BY started_at DESC, id DESC LIMIT 1`.pipe(
        Effect.map((records) => (records.length === 0 ? null : toBatchRun(records[0]))),
        Effect.mapError(failed("batch runs"))
      )

    const lastBatchRun = runs(sql.and([sql`client_org_id = ${clientOrgId}`]))
    const lastSuccessfulRun = runs(sql.and([sql`client_org_id = ${clientOrgId}`, sql`status = 'succeeded'`]))

    /** The rows of a period, as the API shows them. */
    const rows = (filter: RowFilter) => Effect.map(billedRows(filter), (rs) => rs.map((r) => r.row))

    /** Days of [from, to] with a successful batch run. */
    const succeededDays = (from: string, to: string) =>
      sql<{ usage_date: string }>`SELECT DISTINCT usage_date FROM batch_runs WHERE client_org_id = ${clientOrgId}
        AND status = 'succeeded' AND usage_date >= ${from} AND usage_date <= ${to}`.pipe(
        Effect.map((records) => new Set(records.map((r) => r.usage_date))),
        Effect.mapError(failed("batch runs"))
      )

    /**
     * `month` is YYYY-MM (validated by the caller); `unbilledDays` come from the usage store, which
     * the caller reads.
     */
    const monthSummary = (month: string, unbilledDays: ReadonlyArray<UnbilledDay> = []) =>
      Effect.gen(function*() {
        const range = monthRange(month)
        const [billed, last, lastOk, adjustments, closing, history] = yield* Effect.all([
          billedRows(range),
          lastBatchRun,
          lastSuccessfulRun,
          accounting.adjustmentsIn(month),
          accounting.closing(month),
          accounting.dayHistory(range.from, range.to)
        ]).pipe(Effect.mapError((e) => new SummaryDbError({ message: e.message })))
        const adjusted = adjustments.map(adjustmentAsBilled)
        const own = summarise(billed)
        const standing = last !== null && last.status === "failed"
          ? yield* runs(sql.and([
            sql`client_org_id = ${clientOrgId}`,
            sql`status = 'succeeded'`,
            sql`usage_date = ${last.usageDate}`
          ]))
          : null
        return new MonthSummary({
          month,
          clientOrgId,
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
          unbilledDays
        })
      })

    return { rows, billedRows, monthSummary, lastBatchRun, succeededDays } as const
  }),
  dependencies: [AccountingRepo.Default]
}) {}
