/**
 * The budgets API's contract (admin): budgets in PLN per Warsaw month for the client, a group or a
 * user of Open WebUI, their evaluation (spend so far, thresholds reached, alerts sent) and every
 * alert with its delivery attempts. Handlers in `http/BudgetHttp.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { InvalidQuery, NotFound, Unavailable } from "./ApiErrors.js"

export const BudgetScope = Schema.Literal("client", "group", "user")

export class BudgetInput extends Schema.Class<BudgetInput>("BudgetInput")({
  scope: BudgetScope,
  /** '' (or absent) for the client; a group's id or name; a user's id or e-mail */
  subject: Schema.optionalWith(Schema.String, { default: () => "" }),
  /** PLN, e.g. "2000" or "2000.50" */
  amountPln: Schema.String,
  /** per cent; default 50, 80, 100 */
  thresholds: Schema.optional(Schema.Array(Schema.Number))
}) {}

export class BudgetView extends Schema.Class<BudgetView>("BudgetView")({
  scope: BudgetScope,
  subject: Schema.String,
  /** the directory's name for the subject, when it knows it */
  name: Schema.NullOr(Schema.String),
  email: Schema.NullOr(Schema.String),
  amountPln: Schema.String,
  thresholds: Schema.Array(Schema.Number),
  updatedAt: Schema.String
}) {}

export class Budgets extends Schema.Class<Budgets>("Budgets")({ budgets: Schema.Array(BudgetView) }) {}

/** One budget as evaluated for a month. */
export class BudgetStatus extends Schema.Class<BudgetStatus>("BudgetStatus")({
  budget: BudgetView,
  /** PLN spent in the month (billed plus indicative); null when it cannot be told (an unknown group) */
  spendPln: Schema.NullOr(Schema.String),
  /** spend ÷ amount, per cent, 1 decimal */
  percent: Schema.NullOr(Schema.String),
  /** the thresholds reached this month (each alerted once) */
  reached: Schema.Array(Schema.Number),
  /** the thresholds this evaluation alerted (reached now for the first time) */
  alerted: Schema.Array(Schema.Number),
  note: Schema.NullOr(Schema.String)
}) {}

export class Evaluation extends Schema.Class<Evaluation>("Evaluation")({
  month: Schema.String,
  asOf: Schema.String,
  /** days priced as an indication (not yet billed) */
  indicativeDays: Schema.Array(Schema.String),
  /** why unbilled usage has no PLN figure (then the spend is the billed part only) */
  unpriced: Schema.NullOr(Schema.String),
  budgets: Schema.Array(BudgetStatus)
}) {}

export class AlertAttemptView extends Schema.Class<AlertAttemptView>("AlertAttemptView")({
  channel: Schema.String,
  attempt: Schema.Number,
  at: Schema.String,
  status: Schema.Literal("sent", "failed"),
  error: Schema.NullOr(Schema.String)
}) {}

export class AlertView extends Schema.Class<AlertView>("AlertView")({
  id: Schema.Number,
  scope: BudgetScope,
  subject: Schema.String,
  name: Schema.NullOr(Schema.String),
  month: Schema.String,
  threshold: Schema.Number,
  spendPln: Schema.String,
  amountPln: Schema.String,
  at: Schema.String,
  text: Schema.String,
  attempts: Schema.Array(AlertAttemptView)
}) {}

export class LimitChangeView extends Schema.Class<LimitChangeView>("LimitChangeView")({
  keyHash: Schema.String,
  month: Schema.String,
  limitUsd: Schema.NullOr(Schema.String),
  reason: Schema.String,
  at: Schema.String,
  status: Schema.Literal("sent", "failed"),
  error: Schema.NullOr(Schema.String)
}) {}

export class Alerts extends Schema.Class<Alerts>("Alerts")({
  /** the channels configured: webhook, email (none: alerts are recorded and shown only) */
  channels: Schema.Array(Schema.String),
  alerts: Schema.Array(AlertView),
  limitChanges: Schema.Array(LimitChangeView)
}) {}

export class BudgetApi extends adminGroup("budgets")
  .add(
    HttpApiEndpoint.get("list", "/")
      .addSuccess(Budgets)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({ description: "The budgets, with the directory's names." }))
  )
  .add(
    HttpApiEndpoint.put("set", "/")
      .setPayload(BudgetInput)
      .addSuccess(BudgetView)
      .addError(InvalidQuery)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "Sets (adds or replaces) the monthly PLN budget of the client (scope client), a group (its id or " +
          "name) or a user (an id or an e-mail), with its alert thresholds in per cent (default 50, 80, 100)."
      }))
  )
  .add(
    HttpApiEndpoint.del("remove", "/")
      .setUrlParams(Schema.Struct({ scope: BudgetScope, subject: Schema.optionalWith(Schema.String, { default: () => "" }) }))
      .addSuccess(Budgets)
      .addError(NotFound)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({ description: "Removes a budget; answers the budgets left." }))
  )
  .add(
    HttpApiEndpoint.post("evaluate", "/evaluate")
      .setUrlParams(Schema.Struct({ month: Schema.optional(Month) }))
      .addSuccess(Evaluation)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "Evaluates the budgets for `month` (default: this Warsaw month; a past month as at its end) and " +
          "sends the alerts due, each threshold once per subject and month. Spend = the month's billed PLN plus " +
          "the indicative PLN of its days not yet billed (latest NBP rate, the markup in force)."
      }))
  )
  .add(
    HttpApiEndpoint.get("status", "/status")
      .setUrlParams(Schema.Struct({ month: Schema.optional(Month) }))
      .addSuccess(Evaluation)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "The budgets' figures for `month` (default: this Warsaw month) as an evaluation finds them, " +
          "without recording or sending anything (`alerted` is empty)."
      }))
  )
  .add(
    HttpApiEndpoint.get("alerts", "/alerts")
      .setUrlParams(Schema.Struct({
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)))
      }))
      .addSuccess(Alerts)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "The latest alerts (default 50), newest first, each with every delivery attempt (sent or failed, " +
          "and why), and the changes of the OpenRouter keys' limits made by enforcement."
      }))
  )
  .prefix("/api/v1/admin/budgets")
{}
