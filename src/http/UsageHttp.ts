/** The handlers of `UsageApi`: JSON from `Reports` (reporting/), or the same lists as CSV. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { adjustmentColumns } from "../api/AccountingModel.js"
import { MaiApi } from "../api/Api.js"
import { InvalidQuery, unavailable } from "../api/ApiErrors.js"
import {
  dailyRowColumns,
  DailyRows,
  dayColumns,
  KeyDrift,
  modelColumns,
  rateColumns,
  todayColumns,
  TodayUsage,
  userColumns
} from "../api/UsageModel.js"
import { type CsvDialect, type CsvLang, headersOf, toCsv } from "../domain/Csv.js"
import { monthRange } from "../domain/WarsawDay.js"
import { driftView } from "../openrouter/KeyDrift.js"
import { OpenRouterRepo } from "../openrouter/OpenRouterRepo.js"
import { AppConfig } from "../platform/Config.js"
import { Reports } from "../reporting/Reports.js"

/** `format` wins; else a `dialect` or `Accept: text/csv` asks for CSV. */
export const wantsCsv = (
  params: { readonly format?: "json" | "csv" | undefined; readonly dialect?: CsvDialect | undefined },
  request: HttpServerRequest.HttpServerRequest
) =>
  params.format === "csv" ||
  (params.format === undefined &&
    (params.dialect !== undefined || /\btext\/csv\b/i.test(request.headers["accept"] ?? "")))

/** Names and ids: never given a decimal comma, even when they look like numbers. */
const textColumns = ["date", "user", "model", "rateTable", "rateDate", "usageDate"] as const
const csvOptions = (dialect: CsvDialect | undefined, lang?: CsvLang) => ({ dialect, textColumns, headers: headersOf(lang) })

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_")

export const csvResponse = (fileName: string, body: string) =>
  HttpServerResponse.text(body, {
    contentType: "text/csv; charset=utf-8; header=present",
    headers: { "content-disposition": `attachment; filename="${safeName(fileName)}.csv"` }
  })

export const UsageApiLive = HttpApiBuilder.group(MaiApi, "usage", (handlers) =>
  Effect.gen(function*() {
    const reports = yield* Reports
    const config = yield* AppConfig
    const openRouter = yield* OpenRouterRepo
    const org = config.clientOrgId

    /** Today's figures, with the key drift beside them when the API key is configured. */
    const today = Effect.gen(function*() {
      const usage = yield* reports.today.pipe(Effect.mapError(unavailable))
      // The key drift is an addition: a summary DB that cannot be read leaves it out, not the figures.
      const drift = config.openRouterApiKey === undefined
        ? null
        : driftView(yield* openRouter.latestSnapshot.pipe(Effect.orElseSucceed(() => undefined)))
      return new TodayUsage({ ...usage, keyDrift: drift === null ? null : new KeyDrift(drift) })
    })

    return handlers
      .handle("daily", ({ request, urlParams }) =>
        Effect.gen(function*() {
          if (urlParams.to < urlParams.from) {
            return yield* new InvalidQuery({ message: `to (${urlParams.to}) is before from (${urlParams.from})` })
          }
          const rows = yield* reports.rows(urlParams).pipe(Effect.mapError(unavailable))
          if (wantsCsv(urlParams, request)) {
            return csvResponse(`mai-usage_${org}_daily_${urlParams.from}_${urlParams.to}`, toCsv(dailyRowColumns, rows, csvOptions(urlParams.dialect, urlParams.lang)))
          }
          return new DailyRows({ rows })
        }))
      .handle("summary", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const summary = yield* reports.monthSummary(urlParams.month).pipe(Effect.mapError(unavailable))
          if (!wantsCsv(urlParams, request)) return summary
          const list = urlParams.list ?? "rows"
          const name = `mai-usage_${org}_${urlParams.month}_${list}`
          switch (list) {
            case "rows": {
              const rows = yield* reports.rows(monthRange(urlParams.month)).pipe(
                Effect.mapError(unavailable)
              )
              return csvResponse(name, toCsv(dailyRowColumns, rows, csvOptions(urlParams.dialect, urlParams.lang)))
            }
            case "days":
              return csvResponse(name, toCsv(dayColumns, summary.days, csvOptions(urlParams.dialect, urlParams.lang)))
            case "users":
              return csvResponse(name, toCsv(userColumns, summary.users, csvOptions(urlParams.dialect, urlParams.lang)))
            case "models":
              return csvResponse(name, toCsv(modelColumns, summary.models, csvOptions(urlParams.dialect, urlParams.lang)))
            case "rates":
              return csvResponse(name, toCsv(rateColumns, summary.rates, csvOptions(urlParams.dialect, urlParams.lang)))
            case "adjustments":
              return csvResponse(name, toCsv(adjustmentColumns, summary.adjustments, csvOptions(urlParams.dialect, urlParams.lang)))
          }
        }))
      .handle("today", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const usage = yield* today
          if (!wantsCsv(urlParams, request)) return usage
          return csvResponse(
            `mai-usage_${org}_today_${usage.date}`,
            toCsv(todayColumns, usage.rows.map((r) => ({ ...r, date: usage.date })), csvOptions(urlParams.dialect, urlParams.lang))
          )
        }))
  }))
