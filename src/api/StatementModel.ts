/** The statement of a month, as the API and the documents give it. */
import { Schema } from "effect"
import { AdjustmentLine, Closing } from "./AccountingModel.js"
import { Decimal, Usage } from "./Fields.js"
import { RateUsed, Totals } from "./UsageModel.js"


/** A month's statement: its lines per user and model, the adjustments, the NBP tables and markups used, the totals. */
export class StatementLine extends Schema.Class<StatementLine>("StatementLine")({
  ...Usage,
  costUsd: Decimal,
  markup: Schema.String.annotations({ description: "the markup(s) of the line's days, \"; \"-separated if several" }),
  costPln: Decimal.annotations({ description: "sum of the line's daily rows, each rounded to the grosz" })
}) {}

export class MarkupUsed extends Schema.Class<MarkupUsed>("MarkupUsed")({
  markup: Decimal,
  firstDay: Schema.String,
  lastDay: Schema.String,
  days: Schema.Int
}) {}

export class Statement extends Schema.Class<Statement>("Statement")({
  clientOrgId: Schema.String,
  month: Schema.String,
  from: Schema.String,
  to: Schema.String,
  status: Schema.Literal("open", "closed"),
  closing: Schema.NullOr(Closing),
  lines: Schema.Array(StatementLine),
  linesTotals: Totals,
  adjustments: Schema.Array(AdjustmentLine).annotations({ description: "adjustments for earlier months" }),
  adjustmentsTotals: Totals,
  rates: Schema.Array(RateUsed),
  markups: Schema.Array(MarkupUsed),
  totals: Totals.annotations({ description: "lines plus adjustments" }),
  generatedAt: Schema.String
}) {}
