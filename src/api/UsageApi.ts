/**
 * The reporting API's contract, declared apart from its handlers. Every endpoint is
 * behind `AdminAuth`; each list is also served as CSV (`?format=csv` or `Accept: text/csv`).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Day, Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { InvalidQuery, Unavailable } from "./ApiErrors.js"
import { CsvDialectParam, CsvLangParam } from "../domain/Csv.js"
import { DailyRows, MonthSummary, TodayUsage } from "./UsageModel.js"

const Format = Schema.Literal("json", "csv").annotations({
  identifier: "Format",
  description: "csv: the list as CSV (the same as `Accept: text/csv`); json by default"
})

export const summaryLists = ["rows", "days", "users", "models", "rates", "adjustments"] as const
const SummaryList = Schema.Literal(...summaryLists).annotations({
  identifier: "SummaryList",
  description: "which list of the month the CSV holds: rows (one per day, user and model; the default), days, users, models, rates, adjustments (for earlier, closed months, booked into this one)"
})

/** Documents the CSV variant of a 200 answer, which OpenAPI cannot derive from one schema. */
const alsoCsv = (description: string) =>
  OpenApi.annotations({
    description,
    transform: (op) => {
      const ok = (op as any).responses?.["200"]
      if (ok !== undefined) {
        ok.content = { ...ok.content, "text/csv": { schema: { type: "string", description: "UTF-8 CSV, header row, RFC 4180" } } }
      }
      return op
    }
  })

export class UsageApi extends adminGroup("usage")
  .add(
    HttpApiEndpoint.get("daily", "/daily")
      .setUrlParams(Schema.Struct({
        from: Day,
        to: Day,
        user: Schema.optional(Schema.String),
        model: Schema.optional(Schema.String),
        format: Schema.optional(Format),
        dialect: Schema.optional(CsvDialectParam),
        lang: Schema.optional(CsvLangParam)
      }).annotations({ title: "DailyQuery" }))
      .addSuccess(DailyRows)
      .addError(InvalidQuery)
      .annotateContext(alsoCsv(
        "Billed rows, one per (date, user, model), for the days from..to inclusive, optionally of one user " +
          "and/or one model. Money and rates are decimal strings."
      ))
  )
  .add(
    HttpApiEndpoint.get("summary", "/summary")
      .setUrlParams(Schema.Struct({
        month: Month,
        format: Schema.optional(Format),
        list: Schema.optional(SummaryList),
        dialect: Schema.optional(CsvDialectParam),
        lang: Schema.optional(CsvLangParam)
      }).annotations({ title: "SummaryQuery" }))
      .addSuccess(MonthSummary)
      .annotateContext(alsoCsv(
        "The month's totals (sums of its rows), per day, per user, per model, the NBP tables used and the " +
          "last batch run. As CSV, one list (see `list`)."
      ))
  )
  .add(
    HttpApiEndpoint.get("today", "/today")
      .setUrlParams(
        Schema.Struct({
          format: Schema.optional(Format),
          dialect: Schema.optional(CsvDialectParam),
          lang: Schema.optional(CsvLangParam)
        }).annotations({
          title: "TodayQuery"
        })
      )
      .addSuccess(TodayUsage)
      .annotateContext(alsoCsv(
        "Today's usage so far (the batch time zone's calendar day), not yet billed: USD, and PLN at the " +
          "latest NBP table as an indication. When NBP cannot be reached there is no PLN figure, never an invented rate."
      ))
  )
  .addError(Unavailable)
  .prefix("/api/v1/usage")
  .annotateContext(OpenApi.annotations({
    title: "Usage reports",
    description: "Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>` (or the dashboard's cookie)."
  }))
{}
