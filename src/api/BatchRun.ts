/**
 * A run of the daily batch, in the one shape every reader gives it: the batch API's run list, the
 * month summary's last runs. The `batch_runs` row it is read from is `billing/SummaryRuns.ts`'s.
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
