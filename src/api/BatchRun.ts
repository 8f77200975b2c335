/**
 * A run of the daily batch: the `batch_runs` row (table in `store/SummaryDb.ts`) and the one shape
 * every reader gives it — the batch (`SummaryRepo`), the reporting API's month summary and the
 * batch API's run list.
 */
import { Schema } from "effect"

export const Trigger = Schema.Literal("schedule", "catch-up", "cli", "api")
export type Trigger = typeof Trigger.Type

export const RunStatus = Schema.Literal("running", "succeeded", "failed").annotations({
  description: "running | succeeded | failed"
})
export type RunStatus = typeof RunStatus.Type

/** A run of the daily batch, as the API shows it (`GET /api/v1/admin/batch/runs`, the month summary). */
export class BatchRun extends Schema.Class<BatchRun>("BatchRun")({
  id: Schema.Int,
  usageDate: Schema.String,
  trigger: Trigger,
  status: RunStatus,
  startedAt: Schema.String,
  finishedAt: Schema.NullOr(Schema.String),
  events: Schema.NullOr(Schema.Int),
  rowsWritten: Schema.NullOr(Schema.Int),
  corrections: Schema.NullOr(Schema.Int),
  rate: Schema.NullOr(Schema.String),
  rateTable: Schema.NullOr(Schema.String),
  markup: Schema.NullOr(Schema.String),
  source: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
}) {}

type Int = bigint | number

/** A `batch_runs` row as SQLite returns it (`SELECT *`), with or without safe integers. */
export interface BatchRunRecord {
  readonly id: Int
  readonly usage_date: string
  readonly trigger: string
  readonly status: string
  readonly started_at: string
  readonly finished_at: string | null
  readonly events: Int | null
  readonly rows_written: Int | null
  readonly corrections: Int | null
  readonly rate: string | null
  readonly rate_table: string | null
  readonly markup: string | null
  readonly source: string | null
  readonly error: string | null
}

const num = (v: Int | null) => (v === null ? null : Number(v))

export const toBatchRun = (r: BatchRunRecord): BatchRun =>
  new BatchRun({
    id: Number(r.id),
    usageDate: r.usage_date,
    trigger: r.trigger as Trigger,
    status: r.status as RunStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    events: num(r.events),
    rowsWritten: num(r.rows_written),
    corrections: num(r.corrections),
    rate: r.rate,
    rateTable: r.rate_table,
    markup: r.markup,
    source: r.source,
    error: r.error
  })
