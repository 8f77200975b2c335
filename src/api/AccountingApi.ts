/**
 * The accounting API's contract: closing and reopening months (admin), and the monthly
 * statement as JSON, CSV or PDF. Behind `AdminAuth`. Handlers in `AccountingApiLive.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { adminGroup } from "./AdminAuth.js"
import { Conflict, Unavailable } from "./ApiErrors.js"
import { CsvDialectParam } from "../domain/Csv.js"
import { Month } from "../domain/WarsawDay.js"
import { Closing } from "./AccountingModel.js"
import { Statement } from "./StatementModel.js"

export class ClosedMonth extends Schema.Class<ClosedMonth>("ClosedMonth")({
  month: Schema.String,
  ...Closing.fields
}) {}

export class ReopenedMonth extends Schema.Class<ReopenedMonth>("ReopenedMonth")({
  month: Schema.String,
  reopenedAt: Schema.String,
  foldedAdjustments: Schema.Int.annotations({ description: "adjustment rows of its days folded back into its rows" })
}) {}

export class AuditEntryView extends Schema.Class<AuditEntryView>("AuditEntryView")({
  id: Schema.Int,
  month: Schema.String,
  action: Schema.Literal("close", "reopen"),
  at: Schema.String,
  by: Schema.Literal("cli", "api", "dashboard"),
  reason: Schema.NullOr(Schema.String),
  costUsd: Schema.NullOr(Schema.String),
  costPln: Schema.NullOr(Schema.String),
  statementSha256: Schema.NullOr(Schema.String),
  reconciliation: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "a close: how the month stood with OpenRouter's reconciliation (with the days accepted, if any)"
  }),
  closerName: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "a close: the name the person closing gave"
  })
}) {}

/** The close's optional JSON body (an empty body is no body): who closes, and why. */
export const CloseBody = Schema.NullOr(Schema.Struct({
  by: Schema.optional(Schema.String.pipe(Schema.maxLength(200))).annotations({
    description: "the name of the person closing the month, shown on the statement beside api/dashboard"
  }),
  reason: Schema.optional(Schema.String).annotations({ description: "why the month is closed (as the `reason` parameter)" })
})).annotations({ identifier: "CloseBody" })

export class MonthsView extends Schema.Class<MonthsView>("MonthsView")({
  closed: Schema.Array(ClosedMonth),
  audit: Schema.Array(AuditEntryView)
}) {}

const MonthPath = Schema.Struct({ month: Month })

export class MonthsApi extends adminGroup("months")
  .add(
    HttpApiEndpoint.post("close", "/:month/close")
      .setPath(MonthPath)
      .setUrlParams(Schema.Struct({
        reason: Schema.optional(Schema.String),
        acceptUnreconciled: Schema.optional(Schema.Literal("true", "false")).annotations({
          description: "true: close although reconciliation found days missing or never reconciled (needs a reason)"
        })
      }))
      .setPayload(CloseBody)
      .addSuccess(ClosedMonth)
      .annotateContext(OpenApi.annotations({
        description: "Closes a month: refused, naming the days, unless every day is over and has a successful batch " +
          "run. Records when, by whom (api, or dashboard for the dashboard's session, with the name given in the body's `by`), the totals and the SHA-256 of " +
          "the statement CSV. Afterwards the month's rows never change; differences become adjustments of the next open month."
      }))
  )
  .add(
    HttpApiEndpoint.post("reopen", "/:month/reopen")
      .setPath(MonthPath)
      .setUrlParams(Schema.Struct({ reason: Schema.String }))
      .addSuccess(ReopenedMonth)
      .annotateContext(OpenApi.annotations({
        description: "Reopens a closed month, only while no later month is closed; `reason` is required and audited."
      }))
  )
  .add(
    HttpApiEndpoint.get("list", "/")
      .addSuccess(MonthsView)
      .annotateContext(OpenApi.annotations({ description: "Closed months with their closing records, and the audit log." }))
  )
  .addError(Conflict)
  .addError(Unavailable)
  .prefix("/api/v1/admin/months")
{}

const StatementFormat = Schema.Literal("json", "csv", "pdf", "document").annotations({
  identifier: "StatementFormat",
  description: "json (default), csv or pdf; also chosen by `Accept: text/csv` or `Accept: application/pdf`. " +
    "document: the statement as the PDF and the printable view lay it out (JSON: title, facts, sections, in `lang`)"
})

const StatementLangParam = Schema.Literal("pl", "en").annotations({
  identifier: "StatementLang",
  description: "the language of the PDF, the document and the CSV's headers: pl (default) or en. The SHA-256 a " +
    "closing records is the English CSV's in the default dialect (`?format=csv&lang=en`)"
})

export class StatementsApi extends adminGroup("statements")
  .add(
    HttpApiEndpoint.get("statement", "/:month")
      .setPath(MonthPath)
      .setUrlParams(Schema.Struct({
        format: Schema.optional(StatementFormat),
        dialect: Schema.optional(CsvDialectParam),
        lang: Schema.optional(StatementLangParam)
      }))
      .addSuccess(Statement)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "The month's statement: client organisation, period, open/closed (closed at), lines per user × " +
          "model, adjustments for earlier months, the NBP tables and markups used, totals in PLN and USD, generated at. " +
          "Polish by default (headers of the CSV, the PDF, the document), English with `lang=en`. The CSV has no " +
          "generation time, so a closed month's English CSV is byte-for-byte the one whose SHA-256 was recorded.",
        transform: (op) => {
          const ok = (op as any).responses?.["200"]
          if (ok !== undefined) {
            ok.content = {
              ...ok.content,
              "text/csv": { schema: { type: "string" } },
              "application/pdf": { schema: { type: "string", format: "binary" } }
            }
          }
          return op
        }
      }))
  )
  .prefix("/api/v1/statements")
{}
