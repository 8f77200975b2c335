/**
 * The day rows of the summary DB (daily_usage, exchange_rates; adjustments for closed days): a
 * day's rows, the billed rows of a period, and what a batch run commits for its day. Tables in `migrations.ts`.
 *
 * Corrections. A day's rows are keyed (usage_date, client_org_id, user, model). When a run commits
 * a day that already had a successful run, every key whose row appeared, vanished, or whose figures
 * changed (requests, any token count, cost_nusd, cost_usd, markup, rate, rate table, rate date,
 * cost_pln) counts as one correction. The first successful run of a day has 0 corrections. An
 * unchanged row is not rewritten (its updated_at and batch_run_id keep naming the run that last
 * changed it), so re-running a day with the same data changes nothing.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { toAdjustment } from "./SummaryMonths.js"
import { type AdjustmentDelta, adjustmentsFor, type Figures, type Pricing } from "./Periods.js"
import { formatUsd } from "../domain/Money.js"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import { DailyRow } from "../api/UsageModel.js"
import { type AggregateColumns, type PricedColumns, pricedFields, type TokenColumns, tokenCounts, usageAggregate } from "../store/Rows.js"
import type { BilledRow } from "./Summary.js"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed, SummaryDbError } from "../store/SummaryDb.js"

/** One daily_usage row: the day's aggregate, and its money and rate as decimal text. */
export interface DayRow extends UsageAggregate {
  readonly costUsd: string
  readonly markup: string
  readonly rate: string
  readonly rateTable: string
  readonly rateDate: string
  readonly costPln: string
}

export interface RateUsed {
  readonly rule: string
  readonly rate: string
  readonly tableNo: string
  readonly effectiveDate: string
}

export interface CommitDay {
  readonly runId: number
  readonly usageDate: string
  readonly clientOrgId: string
  readonly rows: ReadonlyArray<DayRow>
  /** undefined when the day has no usage (no rate was needed) */
  readonly rate: RateUsed | undefined
  readonly events: number
  readonly at: string
}

/** A run of a day in a closed month: the figures found, compared with what the day already books. */
export interface CommitClosedDay {
  readonly runId: number
  readonly usageDate: string
  readonly clientOrgId: string
  readonly found: ReadonlyArray<UsageAggregate>
  /** prices keys the closed day has nothing booked for; the day's own rows' rate and markup win */
  readonly dayPricing: Pricing | undefined
  /** the first open month after the day's month */
  readonly intoMonth: string
  readonly reason: string
  readonly events: number
  readonly at: string
}

export interface CommittedAdjustments {
  readonly adjustments: ReadonlyArray<AdjustmentDelta>
  /** the closed day's own rows (unchanged) */
  readonly frozenRows: number
  readonly pricing: Pricing | undefined
}

export interface Committed {
  /** rows the day has after the run */
  readonly rowsWritten: number
  /** rows inserted, updated or deleted by this run */
  readonly rowsChanged: number
  readonly corrections: number
}

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

export interface SummaryDays {
  /** The billed rows of a period (this client's), oldest day first, as the API shows them. */
  readonly billedRows: (filter: RowFilter) => Effect.Effect<ReadonlyArray<BilledRow>, SummaryDbError>
  readonly dayRows: (usageDate: string, clientOrgId: string) => Effect.Effect<ReadonlyArray<DayRow>, SummaryDbError>
  /** Rows, vanished rows, the rate and the run's success, all in one transaction. */
  readonly commitDay: (commit: CommitDay) => Effect.Effect<Committed, SummaryDbError>
  /**
   * The adjustment rule for a day of a closed month, in one transaction: its daily_usage rows stay
   * as they are; each difference becomes an adjustment row in `intoMonth`; the run succeeds with
   * `corrections` = the adjustment rows written.
   */
  readonly commitClosedDay: (commit: CommitClosedDay) => Effect.Effect<CommittedAdjustments, SummaryDbError>
}

interface RawDayRow extends AggregateColumns, PricedColumns {}

const toDayRow = (r: RawDayRow): DayRow => ({
  ...usageAggregate(r),
  ...pricedFields(r)
})

/** Every figure of a row, as one comparable text (what "changed" means for a correction). */
const figures = (r: DayRow) =>
  [r.requests, r.inputTokens, r.outputTokens, r.totalTokens, r.cachedTokens, r.reasoningTokens, r.costNusd, r.costUsd,
    r.markup, r.rate, r.rateTable, r.rateDate, r.costPln].join("|")

const INT64_MAX = (1n << 63n) - 1n

/**
 * A day row keeps its exact cost in an INTEGER column (int64): 9,223,372,036.854775807 USD per
 * (day, user, model). Beyond that the run fails saying so, rather than storing a rounded number.
 */
const beyondSummaryLimit = (c: CommitDay) => {
  const row = c.rows.find((r) => r.costNusd > INT64_MAX || r.costNusd < -INT64_MAX)
  return row === undefined ? Effect.void : Effect.fail(
    new SummaryDbError({
      message: `the cost of user ${JSON.stringify(row.user.slice(0, 80))}, model ${JSON.stringify(row.model.slice(0, 80))} ` +
        `on ${c.usageDate} is ${formatUsd(row.costNusd)} USD, beyond the ${formatUsd(INT64_MAX)} USD a summary row can hold`
    })
  )
}

const key = (r: { readonly user: string; readonly model: string }) => JSON.stringify([r.user, r.model])

/** Where a row goes and which run wrote it. */
export interface RowWrite {
  readonly usageDate: string
  readonly clientOrgId: string
  readonly runId: number | null
  readonly at: string
  readonly row: DayRow
}

export type UpsertRow = (w: RowWrite) => Effect.Effect<void, SqlError>

/** The one statement that writes a daily_usage row (the batch's commit and a reopen's fold). */
export const upsertRowWith = (sql: SqlClient.SqlClient): UpsertRow => ({ at, clientOrgId, row: r, runId, usageDate }) =>
  sql`INSERT INTO daily_usage (usage_date, client_org_id, user, model, requests, input_tokens, output_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_nusd, cost_usd, markup, rate, rate_table, rate_date, cost_pln,
      batch_run_id, updated_at)
    VALUES (${usageDate}, ${clientOrgId}, ${r.user}, ${r.model}, ${r.requests}, ${r.inputTokens},
      ${r.outputTokens}, ${r.totalTokens}, ${r.cachedTokens}, ${r.reasoningTokens}, ${r.costNusd}, ${r.costUsd},
      ${r.markup}, ${r.rate}, ${r.rateTable}, ${r.rateDate}, ${r.costPln}, ${runId}, ${at})
    ON CONFLICT (usage_date, client_org_id, user, model) DO UPDATE SET
      requests = excluded.requests, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
      total_tokens = excluded.total_tokens, cached_tokens = excluded.cached_tokens,
      reasoning_tokens = excluded.reasoning_tokens, cost_nusd = excluded.cost_nusd, cost_usd = excluded.cost_usd,
      markup = excluded.markup, rate = excluded.rate, rate_table = excluded.rate_table,
      rate_date = excluded.rate_date, cost_pln = excluded.cost_pln, batch_run_id = excluded.batch_run_id,
      updated_at = excluded.updated_at`.pipe(Effect.asVoid)

export const summaryDays = (sql: SqlClient.SqlClient, clientOrgId: string): SummaryDays => {
  const upsertRow = upsertRowWith(sql)

  const dayRows: SummaryDays["dayRows"] = (usageDate, clientOrgId) =>
    exact(sql<RawDayRow>`SELECT user, model, requests, input_tokens, output_tokens, total_tokens, cached_tokens,
        reasoning_tokens, cost_nusd, cost_usd, markup, rate, rate_table, rate_date, cost_pln
      FROM daily_usage WHERE usage_date = ${usageDate} AND client_org_id = ${clientOrgId} ORDER BY user, model`).pipe(
      Effect.map((rows) => rows.map(toDayRow)),
      Effect.mapError(failed("read"))
    )

  const commitDay: SummaryDays["commitDay"] = (c) =>
    Effect.zipRight(beyondSummaryLimit(c), sql.withTransaction(
      Effect.gen(function*() {
        const before = new Map((yield* dayRows(c.usageDate, c.clientOrgId)).map((r) => [key(r), r]))
        const summarisedBefore = yield* sql<{ n: number }>`SELECT count(*) AS n FROM batch_runs
          WHERE usage_date = ${c.usageDate} AND client_org_id = ${c.clientOrgId} AND status = 'succeeded'`
        let changed = 0
        const seen = new Set<string>()
        for (const row of c.rows) {
          const k = key(row)
          seen.add(k)
          const old = before.get(k)
          if (old !== undefined && figures(old) === figures(row)) continue
          changed++
          yield* upsertRow({ usageDate: c.usageDate, clientOrgId: c.clientOrgId, runId: c.runId, at: c.at, row })
        }
        for (const [k, old] of before) {
          if (seen.has(k)) continue
          changed++
          yield* sql`DELETE FROM daily_usage WHERE usage_date = ${c.usageDate} AND client_org_id = ${c.clientOrgId}
            AND user = ${old.user} AND model = ${old.model}`
        }
        if (c.rate !== undefined) {
          const r = c.rate
          yield* sql`INSERT INTO exchange_rates (usage_date, rule, rate, table_no, effective_date, fetched_at)
            VALUES (${c.usageDate}, ${r.rule}, ${r.rate}, ${r.tableNo}, ${r.effectiveDate}, ${c.at})
            ON CONFLICT (usage_date, rule) DO UPDATE SET rate = excluded.rate, table_no = excluded.table_no,
              effective_date = excluded.effective_date, fetched_at = excluded.fetched_at
            WHERE rate IS NOT excluded.rate OR table_no IS NOT excluded.table_no
              OR effective_date IS NOT excluded.effective_date`
        }
        const corrections = Number(summarisedBefore[0].n) > 0 ? changed : 0
        const result: Committed = { rowsWritten: c.rows.length, rowsChanged: changed, corrections }
        yield* sql`UPDATE batch_runs SET status = 'succeeded', finished_at = ${c.at}, events = ${c.events},
            rows_written = ${result.rowsWritten}, corrections = ${corrections}, rate = ${c.rate?.rate ?? null},
            rate_table = ${c.rate?.tableNo ?? null}, error = NULL
          WHERE id = ${c.runId}`
        return result
      })
    ).pipe(Effect.mapError((e) => (e instanceof SummaryDbError ? e : failed("write")(e)))))

  const commitClosedDay: SummaryDays["commitClosedDay"] = (c) =>
    sql.withTransaction(
      Effect.gen(function*() {
        const frozen = yield* dayRows(c.usageDate, c.clientOrgId)
        const earlier = yield* exact(sql<Parameters<typeof toAdjustment>[0]>`SELECT * FROM adjustments
          WHERE client_org_id = ${c.clientOrgId} AND original_date = ${c.usageDate} ORDER BY id`)
        const booked: Array<Figures> = [...frozen, ...earlier.map(toAdjustment)]
        // The original day's rate and markup: those its rows were billed at, when it has any.
        const pricing: Pricing | undefined = booked.length > 0
          ? { markup: booked[0].markup, rate: booked[0].rate, rateTable: booked[0].rateTable, rateDate: booked[0].rateDate }
          : c.dayPricing
        const deltas = pricing === undefined ? [] : adjustmentsFor(booked, c.found, pricing)
        for (const d of deltas) {
          yield* sql`INSERT INTO adjustments (client_org_id, month, original_date, user, model, requests, input_tokens,
              output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nusd, cost_usd, markup, rate,
              rate_table, rate_date, cost_pln, reason, batch_run_id, created_at)
            VALUES (${c.clientOrgId}, ${c.intoMonth}, ${c.usageDate}, ${d.user}, ${d.model}, ${d.requests},
              ${d.inputTokens}, ${d.outputTokens}, ${d.totalTokens}, ${d.cachedTokens}, ${d.reasoningTokens},
              ${d.costNusd}, ${d.costUsd}, ${d.markup}, ${d.rate}, ${d.rateTable}, ${d.rateDate}, ${d.costPln},
              ${c.reason}, ${c.runId}, ${c.at})`
        }
        yield* sql`UPDATE batch_runs SET status = 'succeeded', finished_at = ${c.at}, events = ${c.events},
            rows_written = ${frozen.length}, corrections = ${deltas.length}, rate = ${pricing?.rate ?? null},
            rate_table = ${pricing?.rateTable ?? null}, markup = COALESCE(${pricing?.markup ?? null}, markup),
            error = NULL
          WHERE id = ${c.runId}`
        const result: CommittedAdjustments = { adjustments: deltas, frozenRows: frozen.length, pricing }
        return result
      })
    ).pipe(Effect.mapError((e) => (e instanceof SummaryDbError ? e : failed("write")(e))))

  const billedRows: SummaryDays["billedRows"] = (filter) => {
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
      Effect.mapError(failed("read")),
      // A count beyond 2^53 says so (a clear error), rather than a defect and an empty 500.
      Effect.flatMap((records) => Effect.try({ try: () => records.map(toBilledRow), catch: failed("read") }))
    )
  }

  return { billedRows, dayRows, commitDay, commitClosedDay }
}
