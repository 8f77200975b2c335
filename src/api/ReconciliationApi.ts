/**
 * `GET /api/v1/reconciliation`: the stored reconciliation of each completed UTC day of OpenRouter's
 * window (or of from..to), per model, with when each was checked. Admin authentication.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Day } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { InvalidQuery, Unavailable } from "./ApiErrors.js"

const Usd = Schema.String.annotations({ description: "USD as decimal text" })

export class ReconciledModel extends Schema.Class<ReconciledModel>("ReconciledModel")({
  model: Schema.String,
  status: Schema.Literal("ok", "missing", "extra"),
  openRouterRequests: Schema.Number,
  openRouterUsd: Usd,
  ledgerRequests: Schema.Number,
  ledgerUsd: Usd,
  missingRequests: Schema.Number,
  missingUsd: Usd
}) {}

export class ReconciledDay extends Schema.Class<ReconciledDay>("ReconciledDay")({
  date: Schema.String.annotations({ description: "a UTC day" }),
  status: Schema.Literal("ok", "missing", "extra", "unavailable", "unchecked"),
  checkedAt: Schema.NullOr(Schema.String).annotations({ description: "the last attempt (UTC, ISO 8601)" }),
  lastSuccessAt: Schema.NullOr(Schema.String).annotations({ description: "when the models below were compared" }),
  error: Schema.NullOr(Schema.String).annotations({ description: "why the day is unavailable" }),
  missingRequests: Schema.Number,
  missingUsd: Usd,
  otherKeysRequests: Schema.Number.annotations({ description: "requests the ledger received for keys that are not the client's (never compared)" }),
  otherKeysUsd: Usd,
  models: Schema.Array(ReconciledModel)
}) {}

export class Reconciliations extends Schema.Class<Reconciliations>("Reconciliations")({
  configured: Schema.Boolean.annotations({ description: "false when OPENROUTER_MANAGEMENT_KEY is not set" }),
  lastCheckAt: Schema.NullOr(Schema.String),
  days: Schema.Array(ReconciledDay).annotations({ description: "newest first" })
}) {}

export class ReconciliationApi extends adminGroup("reconciliation")
  .add(
    HttpApiEndpoint.get("days", "/")
      .setUrlParams(Schema.Struct({ from: Schema.optional(Day), to: Schema.optional(Day) }).annotations({ title: "ReconciliationQuery" }))
      .addSuccess(Reconciliations)
      .addError(InvalidQuery)
      .annotateContext(OpenApi.annotations({
        description: "OpenRouter's activity for the client's key against the ledger, per completed UTC day and model " +
          "(default: the 30 days OpenRouter keeps). A day never checked is `unchecked`."
      }))
  )
  .addError(Unavailable)
  .prefix("/api/v1/reconciliation")
{}
