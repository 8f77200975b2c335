/**
 * The accounting schemas the reporting API shares with the statement: adjustments, the closing
 * record, the per-day correction history. Built on `reporting/Fields.ts` alone, so that the reporting model
 * can use them.
 */
import { Schema } from "effect"
import { Decimal, Priced, pricedColumns, Usage, usageColumns } from "./Fields.js"

/** A difference found for a day of a closed month, booked into this one. Signed: negative is a credit. */
export class AdjustmentLine extends Schema.Class<AdjustmentLine>("AdjustmentLine")({
  originalDate: Schema.String.annotations({ description: "the usage day the difference belongs to" }),
  ...Usage,
  ...Priced,
  markup: Decimal.annotations({ description: "the original day's markup" }),
  rate: Decimal.annotations({ description: "the original day's NBP rate" }),
  reason: Schema.String,
  createdAt: Schema.String
}) {}

export class Closing extends Schema.Class<Closing>("Closing")({
  closedAt: Schema.String,
  closedBy: Schema.Literal("cli", "api", "dashboard"),
  reason: Schema.NullOr(Schema.String),
  costUsd: Decimal,
  costPln: Decimal,
  requests: Schema.Int,
  totalTokens: Schema.Int,
  statementSha256: Schema.String.annotations({ description: "SHA-256 (hex) of the statement CSV when closed, in its canonical form: `?format=csv&lang=en` (English headers, default dialect)" }),
  reconciliation: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "how the month stood with OpenRouter's reconciliation when closed (absent for closes before it was recorded)"
  }),
  closerName: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "the name the person closing gave (`--by`, the dashboard's confirmation, the API's body); absent when none"
  })
}) {}

/** A day's batch history as the dashboard shows it: corrected or not, and whether its last run failed. */
export class DayHistory extends Schema.Class<DayHistory>("DayHistory")({
  date: Schema.String,
  corrected: Schema.Boolean.annotations({ description: "a run after the first changed its figures (or booked adjustments)" }),
  correctedAt: Schema.NullOr(Schema.String).annotations({ description: "when the last such run finished" }),
  lastRunStatus: Schema.String,
  lastRunError: Schema.NullOr(Schema.String),
  lastRunFinishedAt: Schema.NullOr(Schema.String)
}) {}

/** A month's accounting state. */
export class MonthState extends Schema.Class<MonthState>("MonthState")({
  status: Schema.Literal("open", "closed"),
  closing: Schema.NullOr(Closing)
}) {}

export const adjustmentColumns = ["originalDate", ...usageColumns, ...pricedColumns, "reason", "createdAt"] as const
