/**
 * `GET /api/v1/admin/overview/:month`: one client's month at a glance, for the reseller's console
 * (admin). What was billed (lines plus adjustments), what OpenRouter cost at the same NBP rates
 * without the markup, the margin, whether the month can be closed, how reconciliation stands, the
 * last batch run, pending costs and quarantined rows. Handlers in `http/OverviewHttp.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { Unavailable } from "./ApiErrors.js"
import { BatchRun } from "./BatchRun.js"
import { Decimal } from "./Fields.js"

export class OverviewState extends Schema.Class<OverviewState>("OverviewState")({
  status: Schema.Literal("open", "closed"),
  closable: Schema.Boolean.annotations({ description: "an open month that `close` would accept now" }),
  refusal: Schema.NullOr(Schema.String).annotations({ description: "why `close` would refuse an open month now, naming the days" }),
  needsAcceptance: Schema.Boolean.annotations({
    description: "refused only for reconciliation: close with acceptUnreconciled=true and a reason"
  }),
  closedAt: Schema.NullOr(Schema.String),
  closedBy: Schema.NullOr(Schema.Literal("cli", "api", "dashboard"))
}) {}

export class OverviewReconciliation extends Schema.Class<OverviewReconciliation>("OverviewReconciliation")({
  configured: Schema.Boolean.annotations({ description: "false without OPENROUTER_MANAGEMENT_KEY" }),
  daysOk: Schema.Int.annotations({ description: "completed days of the month reconciled without requests missing" }),
  daysMissing: Schema.Int,
  daysUnreconciled: Schema.Int,
  missing: Schema.Array(Schema.String).annotations({ description: "days where OpenRouter counted requests the ledger never received" }),
  unreconciled: Schema.Array(Schema.String).annotations({ description: "completed days never reconciled" })
}) {}

/** A budget alert of the month (present once budgets exist in this app). */
export class OverviewAlert extends Schema.Class<OverviewAlert>("OverviewAlert")({
  scope: Schema.String,
  threshold: Schema.Int,
  at: Schema.String
}) {}

/** The app's `/ready`, as anyone may see it: each check's name and status word, no error texts. */
export class OverviewReady extends Schema.Class<OverviewReady>("OverviewReady")({
  ok: Schema.Boolean,
  checks: Schema.Record({ key: Schema.String, value: Schema.Struct({ ok: Schema.Boolean, status: Schema.optional(Schema.String) }) })
}) {}

export class MonthOverview extends Schema.Class<MonthOverview>("MonthOverview")({
  month: Schema.String,
  clientOrgId: Schema.String,
  billedPln: Decimal.annotations({ description: "PLN billed: the month's lines plus adjustments booked into it" }),
  billedUsd: Decimal,
  openRouterPln: Decimal.annotations({
    description: "what OpenRouter cost for the same rows: each row's USD at its own NBP rate, without markup, rounded to the grosz"
  }),
  marginPln: Decimal.annotations({ description: "billedPln − openRouterPln, exactly" }),
  marginPercent: Schema.NullOr(Decimal).annotations({ description: "marginPln / billedPln × 100, 2 decimals; null when nothing is billed" }),
  requests: Schema.Int,
  state: OverviewState,
  reconciliation: OverviewReconciliation,
  lastBatchRun: Schema.NullOr(BatchRun),
  ready: OverviewReady,
  pendingCosts: Schema.Int.annotations({ description: "requests of the month whose cost OpenRouter has not sent yet" }),
  quarantinedRows: Schema.Int.annotations({ description: "ledger rows InfluxDB refused, set aside (all months)" }),
  budgetAlerts: Schema.optionalWith(Schema.Array(OverviewAlert), { exact: true }).annotations({
    description: "the month's budget alerts (scope and subject, threshold %, when), oldest first"
  })
}) {}

export class OverviewApi extends adminGroup("overview")
  .add(
    HttpApiEndpoint.get("month", "/:month")
      .setPath(Schema.Struct({ month: Month }))
      .addSuccess(MonthOverview)
      .annotateContext(OpenApi.annotations({
        description: "One client's month at a glance (the reseller's console reads it): billed PLN and USD, OpenRouter's " +
          "cost in PLN at the same NBP rates without markup, the margin, whether the month is open, closable now or " +
          "closed, reconciliation's days, the last batch run, `/ready`'s checks, pending costs and quarantined rows."
      }))
  )
  .addError(Unavailable)
  .prefix("/api/v1/admin/overview")
{}
