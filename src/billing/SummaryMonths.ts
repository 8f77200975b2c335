/**
 * The accounting periods' tables of the summary DB: markup_history, closed_months, month_audit and
 * adjustments (meanings in `migrations.ts`). Every query is scoped to this container's client
 * organisation, except markup_history, which belongs to the container.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { BigDecimal, Effect } from "effect"
import { formatDecimal, formatUsd } from "../domain/Money.js"
import { camelRow, type PricedColumns, pricedFields, type TokenColumns, tokenCounts } from "../store/Rows.js"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed } from "../store/SummaryDb.js"
import type { UpsertRow } from "./SummaryDays.js"
import type { AdjustmentDelta, MarkupEntry } from "./Periods.js"

export type ClosedBy = "cli" | "api" | "dashboard"

export interface ClosingRecord {
  readonly month: string
  readonly closedAt: string
  readonly closedBy: ClosedBy
  readonly reason: string | null
  readonly requests: number
  readonly totalTokens: number
  readonly costUsd: string
  readonly costPln: string
  readonly statementSha256: string
  /** how the month stood with OpenRouter's reconciliation at close; null for closes before it was recorded */
  readonly reconciliation: string | null
}

export interface AuditEntry {
  readonly id: number
  readonly month: string
  readonly action: "close" | "reopen"
  readonly at: string
  readonly by: ClosedBy
  readonly reason: string | null
  readonly costUsd: string | null
  readonly costPln: string | null
  readonly statementSha256: string | null
  readonly reconciliation: string | null
}

/** An adjustment row as stored: signed differences for one (original day, user, model). */
export interface Adjustment extends AdjustmentDelta {
  readonly id: number
  readonly month: string
  readonly originalDate: string
  readonly reason: string
  readonly batchRunId: number | null
  readonly createdAt: string
}

interface RawAdjustment extends TokenColumns, PricedColumns {
  readonly id: bigint
  readonly month: string
  readonly original_date: string
  readonly user: string
  readonly model: string
  readonly requests: bigint
  readonly cost_nusd: bigint
  readonly reason: string
  readonly batch_run_id: bigint | null
  readonly created_at: string
}

export const toAdjustment = (r: RawAdjustment): Adjustment => ({
  id: Number(r.id),
  month: r.month,
  originalDate: r.original_date,
  user: r.user,
  model: r.model,
  requests: Number(r.requests),
  ...tokenCounts(r),
  costNusd: BigInt(r.cost_nusd),
  ...pricedFields(r),
  reason: r.reason,
  batchRunId: r.batch_run_id === null ? null : Number(r.batch_run_id),
  createdAt: r.created_at
})

interface RawDayRow extends TokenColumns {
  readonly requests: bigint
  readonly cost_nusd: bigint
  readonly cost_pln: string
}

interface RawClosing {
  readonly month: string
  readonly closed_at: string
  readonly closed_by: ClosedBy
  readonly reason: string | null
  readonly requests: bigint
  readonly total_tokens: bigint
  readonly cost_usd: string
  readonly cost_pln: string
  readonly statement_sha256: string
  readonly reconciliation: string | null
}

const toClosing = (r: RawClosing): ClosingRecord => ({
  month: r.month,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
  reason: r.reason,
  requests: Number(r.requests),
  totalTokens: Number(r.total_tokens),
  costUsd: r.cost_usd,
  costPln: r.cost_pln,
  statementSha256: r.statement_sha256,
  reconciliation: r.reconciliation ?? null
})

export const summaryMonths = (sql: SqlClient.SqlClient, clientOrgId: string, upsertRow: UpsertRow) => {

  const markupEntries = exact(sql<{ id: bigint; effective_from: string; multiplier: string; recorded_at: string }>`
    SELECT id, effective_from, multiplier, recorded_at FROM markup_history ORDER BY id`).pipe(
    Effect.map((rows) =>
      rows.map((r): MarkupEntry => ({
        id: Number(r.id),
        effectiveFrom: r.effective_from,
        multiplier: r.multiplier,
        recordedAt: r.recorded_at
      }))
    ),
    Effect.mapError(failed("reading markup_history"))
  )

  const recordMarkup = (effectiveFrom: string, multiplier: string, at: string) =>
    sql`INSERT INTO markup_history (effective_from, multiplier, recorded_at) VALUES (${effectiveFrom}, ${multiplier}, ${at})`
      .pipe(Effect.asVoid, Effect.mapError(failed("writing markup_history")))

  /** The markup of the newest billed row (before markup_history existed, the only record of it). */
  const newestRowMarkup = sql<{ markup: string }>`SELECT markup FROM daily_usage
    ORDER BY usage_date DESC, updated_at DESC LIMIT 1`.pipe(
    Effect.map((rows): string | undefined => rows[0]?.markup),
    Effect.mapError(failed("reading daily_usage"))
  )

  const closings = exact(sql<RawClosing>`SELECT * FROM closed_months WHERE client_org_id = ${clientOrgId}
    ORDER BY month`).pipe(Effect.map((rows) => rows.map(toClosing)), Effect.mapError(failed("reading closed_months")))

  const closing = (month: string) =>
    Effect.map(closings, (all) => all.find((c) => c.month === month))

  const closedSet = Effect.map(closings, (all) => new Set(all.map((c) => c.month)))

  const audit = (month?: string) =>
    exact(sql<{
      id: bigint
      client_org_id: string
      month: string
      action: "close" | "reopen"
      at: string
      by: ClosedBy
      reason: string | null
      cost_usd: string | null
      cost_pln: string | null
      statement_sha256: string | null
      reconciliation: string | null
    }>`SELECT * FROM month_audit WHERE client_org_id = ${clientOrgId}
      ${month === undefined ? sql`` : sql`AND month = ${month}`} ORDER BY id`).pipe(
      Effect.map((rows) => rows.map(({ client_org_id: _, id, ...r }): AuditEntry => ({ id: Number(id), ...camelRow(r) }))),
      Effect.mapError(failed("reading month_audit"))
    )

  /** Records a close and its audit entry in one transaction. */
  const insertClosing = (c: ClosingRecord) =>
    sql.withTransaction(Effect.all([
      sql`INSERT INTO closed_months (client_org_id, month, closed_at, closed_by, reason, requests, total_tokens,
          cost_usd, cost_pln, statement_sha256, reconciliation)
        VALUES (${clientOrgId}, ${c.month}, ${c.closedAt}, ${c.closedBy}, ${c.reason}, ${c.requests}, ${c.totalTokens},
          ${c.costUsd}, ${c.costPln}, ${c.statementSha256}, ${c.reconciliation})`,
      sql`INSERT INTO month_audit (client_org_id, month, action, at, by, reason, cost_usd, cost_pln, statement_sha256,
          reconciliation)
        VALUES (${clientOrgId}, ${c.month}, 'close', ${c.closedAt}, ${c.closedBy}, ${c.reason}, ${c.costUsd},
          ${c.costPln}, ${c.statementSha256}, ${c.reconciliation})`
    ], { discard: true })).pipe(Effect.mapError(failed("closing the month")))

  /**
   * Reopens a month in one transaction: the closing record goes (the audit keeps it), and the
   * adjustments booked for its days into later (open) months are folded back into its rows, so
   * the month's own rows again hold every figure found and nothing is counted twice.
   */
  const reopen = (month: string, at: string, by: ClosedBy, reason: string) =>
    sql.withTransaction(
      Effect.gen(function*() {
        const adjustments = yield* exact(sql<RawAdjustment>`SELECT * FROM adjustments WHERE client_org_id = ${clientOrgId}
          AND original_date >= ${month + "-01"} AND original_date <= ${month + "-31"} ORDER BY id`)
        for (const a of adjustments.map(toAdjustment)) {
          const [old] = yield* exact(sql<RawDayRow>`SELECT requests, input_tokens, output_tokens, total_tokens,
              cached_tokens, reasoning_tokens, cost_nusd, cost_pln FROM daily_usage
            WHERE usage_date = ${a.originalDate} AND client_org_id = ${clientOrgId} AND user = ${a.user}
              AND model = ${a.model}`)
          const base = old === undefined ? undefined : { requests: Number(old.requests), ...tokenCounts(old) }
          const n = {
            requests: a.requests + (base?.requests ?? 0),
            inputTokens: a.inputTokens + (base?.inputTokens ?? 0),
            outputTokens: a.outputTokens + (base?.outputTokens ?? 0),
            totalTokens: a.totalTokens + (base?.totalTokens ?? 0),
            cachedTokens: a.cachedTokens + (base?.cachedTokens ?? 0),
            reasoningTokens: a.reasoningTokens + (base?.reasoningTokens ?? 0),
            costNusd: a.costNusd + (old === undefined ? 0n : BigInt(old.cost_nusd)),
            costPln: formatDecimal(
              BigDecimal.sum(BigDecimal.unsafeFromString(a.costPln), BigDecimal.unsafeFromString(old?.cost_pln ?? "0")),
              2
            )
          }
          if (n.requests === 0 && n.costNusd === 0n && n.totalTokens === 0) {
            // Every figure of the key came back to nothing: the row has vanished.
            yield* sql`DELETE FROM daily_usage WHERE usage_date = ${a.originalDate} AND client_org_id = ${clientOrgId}
              AND user = ${a.user} AND model = ${a.model}`
            continue
          }
          yield* upsertRow({
            usageDate: a.originalDate,
            clientOrgId,
            runId: a.batchRunId,
            at,
            row: { ...a, ...n, costUsd: formatUsd(n.costNusd) }
          })
        }
        yield* sql`DELETE FROM adjustments WHERE client_org_id = ${clientOrgId}
          AND original_date >= ${month + "-01"} AND original_date <= ${month + "-31"}`
        yield* sql`DELETE FROM closed_months WHERE client_org_id = ${clientOrgId} AND month = ${month}`
        yield* sql`INSERT INTO month_audit (client_org_id, month, action, at, by, reason)
          VALUES (${clientOrgId}, ${month}, 'reopen', ${at}, ${by}, ${reason})`
        return adjustments.length
      })
    ).pipe(Effect.mapError(failed("reopening the month")))

  /** Adjustments booked into `month` (for days of earlier months), by original day, user, model. */
  const adjustmentsIn = (month: string) =>
    exact(sql<RawAdjustment>`SELECT * FROM adjustments WHERE client_org_id = ${clientOrgId} AND month = ${month}
      ORDER BY original_date, user, model, id`).pipe(
      Effect.map((rows) => rows.map(toAdjustment)),
      Effect.mapError(failed("reading adjustments"))
    )

  return {
    markupEntries,
    recordMarkup,
    newestRowMarkup,
    closings,
    closing,
    closedSet,
    audit,
    insertClosing,
    reopen,
    adjustmentsIn
  } as const
}

export type SummaryMonths = ReturnType<typeof summaryMonths>
