/**
 * The accounting periods' tables of the summary DB: markup_history, closed_months, month_audit and
 * adjustments (meanings in `migrations.ts`). Every query is scoped to this container's client
 * organisation, except markup_history, which belongs to the container.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { BigDecimal, Effect, Schema } from "effect"
import { formatDecimal, formatUsd } from "../domain/Money.js"
import { camelRow, type PricedColumns, pricedFields, type TokenColumns, tokenCounts } from "../store/Rows.js"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed, type SummaryDbError } from "../store/SummaryDb.js"
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
  /** the name the closer gave (`--by`, the dashboard's confirmation, the API's body); null when none */
  readonly closerName?: string | null
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
  readonly closerName: string | null
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

/** A `markup_history` row, mapped by its schema (snake_case columns to the entry's fields). */
const MarkupRow = Schema.Struct({
  id: Schema.Number,
  effectiveFrom: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("effective_from")),
  multiplier: Schema.String,
  recordedAt: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("recorded_at"))
})

/** A `closed_months` row (this client's), mapped by its schema. */
const ClosingRow = Schema.Struct({
  month: Schema.String,
  closedAt: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("closed_at")),
  closedBy: Schema.propertySignature(Schema.Literal("cli", "api", "dashboard")).pipe(Schema.fromKey("closed_by")),
  reason: Schema.NullOr(Schema.String),
  requests: Schema.Number,
  totalTokens: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("total_tokens")),
  costUsd: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("cost_usd")),
  costPln: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("cost_pln")),
  statementSha256: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("statement_sha256")),
  reconciliation: Schema.NullOr(Schema.String),
  closerName: Schema.propertySignature(Schema.NullOr(Schema.String)).pipe(Schema.fromKey("closer_name"))
})

export const summaryMonths = (sql: SqlClient.SqlClient, clientOrgId: string, upsertRow: UpsertRow) => {

  const readMarkups = SqlSchema.findAll({
    Request: Schema.Void,
    Result: MarkupRow,
    execute: () => sql`SELECT id, effective_from, multiplier, recorded_at FROM markup_history ORDER BY id`
  })
  const markupEntries: Effect.Effect<ReadonlyArray<MarkupEntry>, SummaryDbError> = readMarkups(undefined).pipe(
    Effect.mapError(failed("reading markup_history"))
  )

  const insertMarkup = SqlSchema.void({
    Request: Schema.Struct({ effectiveFrom: Schema.String, multiplier: Schema.String, recordedAt: Schema.String }),
    execute: (m) =>
      sql`INSERT INTO markup_history (effective_from, multiplier, recorded_at) VALUES (${m.effectiveFrom}, ${m.multiplier}, ${m.recordedAt})`
  })
  const recordMarkup = (effectiveFrom: string, multiplier: string, at: string) =>
    insertMarkup({ effectiveFrom, multiplier, recordedAt: at }).pipe(Effect.mapError(failed("writing markup_history")))

  /** The markup of the newest billed row (before markup_history existed, the only record of it). */
  const newestRowMarkup = sql<{ markup: string }>`SELECT markup FROM daily_usage
    ORDER BY usage_date DESC, updated_at DESC LIMIT 1`.pipe(
    Effect.map((rows): string | undefined => rows[0]?.markup),
    Effect.mapError(failed("reading daily_usage"))
  )

  const readClosings = SqlSchema.findAll({
    Request: Schema.String,
    Result: ClosingRow,
    execute: (org) => sql`SELECT * FROM closed_months WHERE client_org_id = ${org} ORDER BY month`
  })
  const closings: Effect.Effect<ReadonlyArray<ClosingRecord>, SummaryDbError> = readClosings(clientOrgId).pipe(
    Effect.mapError(failed("reading closed_months"))
  )

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
      closer_name: string | null
    }>`SELECT * FROM month_audit WHERE client_org_id = ${clientOrgId}
      ${month === undefined ? sql`` : sql`AND month = ${month}`} ORDER BY id`).pipe(
      Effect.map((rows) => rows.map(({ client_org_id: _, id, ...r }): AuditEntry => ({ id: Number(id), ...camelRow(r) }))),
      Effect.mapError(failed("reading month_audit"))
    )

  /** Records a close and its audit entry in one transaction. */
  const insertClosing = (c: ClosingRecord) =>
    sql.withTransaction(Effect.all([
      sql`INSERT INTO closed_months (client_org_id, month, closed_at, closed_by, reason, requests, total_tokens,
          cost_usd, cost_pln, statement_sha256, reconciliation, closer_name)
        VALUES (${clientOrgId}, ${c.month}, ${c.closedAt}, ${c.closedBy}, ${c.reason}, ${c.requests}, ${c.totalTokens},
          ${c.costUsd}, ${c.costPln}, ${c.statementSha256}, ${c.reconciliation}, ${c.closerName ?? null})`,
      sql`INSERT INTO month_audit (client_org_id, month, action, at, by, reason, cost_usd, cost_pln, statement_sha256,
          reconciliation, closer_name)
        VALUES (${clientOrgId}, ${c.month}, 'close', ${c.closedAt}, ${c.closedBy}, ${c.reason}, ${c.costUsd},
          ${c.costPln}, ${c.statementSha256}, ${c.reconciliation}, ${c.closerName ?? null})`
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
