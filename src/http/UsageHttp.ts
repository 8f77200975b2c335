/** The handlers of `UsageApi`: JSON from `ReportRepo` and the usage store, or the same lists as CSV. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { BigDecimal, Clock, DateTime, Duration, Effect, Layer } from "effect"
import { CATCH_UP_DAYS } from "../billing/DailyBatch.js"
import { addDays, dayOf, dayWindow, daysFrom, monthRange } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { costPln, formatDecimal, formatUsd } from "../domain/Money.js"
import { MarkupHistory } from "../billing/MarkupHistory.js"
import { MaiApi } from "../api/Api.js"
import { NbpRate } from "../rates/NbpRate.js"
import { UsageStore } from "../store/UsageStore.js"
import { type CsvDialect, toCsv } from "../domain/Csv.js"
import { adjustmentColumns } from "../api/AccountingModel.js"
import {
  dailyRowColumns,
  DailyRows,
  dayColumns,
  IndicativeRate,
  KeyDrift,
  modelColumns,
  rateColumns,
  todayColumns,
  TodayRow,
  TodayUsage,
  UnbilledDay,
  userColumns
} from "../api/UsageModel.js"
import { InvalidQuery, unavailable } from "../api/ApiErrors.js"
import { ReportRepo } from "../reporting/ReportRepo.js"
import { driftView } from "../openrouter/KeyDrift.js"
import { OpenRouterRepo } from "../openrouter/OpenRouterRepo.js"

/** How long today's figures wait for NBP before answering in USD only. */
const RATE_WAIT = Duration.seconds(4)

/** `format` wins; else a `dialect` or `Accept: text/csv` asks for CSV. */
const wantsCsv = (
  params: { readonly format?: "json" | "csv" | undefined; readonly dialect?: CsvDialect | undefined },
  request: HttpServerRequest.HttpServerRequest
) =>
  params.format === "csv" ||
  (params.format === undefined &&
    (params.dialect !== undefined || /\btext\/csv\b/i.test(request.headers["accept"] ?? "")))

/** Names and ids: never given a decimal comma, even when they look like numbers. */
const textColumns = ["date", "user", "model", "rateTable", "rateDate", "usageDate"] as const
const csvOptions = (dialect: CsvDialect | undefined) => ({ dialect, textColumns })

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_")

const csvResponse = (fileName: string, body: string) =>
  HttpServerResponse.text(body, {
    contentType: "text/csv; charset=utf-8; header=present",
    headers: { "content-disposition": `attachment; filename="${safeName(fileName)}.csv"` }
  })

export const UsageApiLive = HttpApiBuilder.group(MaiApi, "usage", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* ReportRepo
    const config = yield* AppConfig
    const store = yield* UsageStore
    const nbp = yield* NbpRate
    const openRouter = yield* OpenRouterRepo
    const markups = yield* MarkupHistory
    const org = config.clientOrgId

    const today = Effect.gen(function*() {
      const now = yield* DateTime.now
      const zoned = DateTime.unsafeMakeZoned(now, { timeZone: config.dailyBatchTimeZone })
      const start = DateTime.startOf(zoned, "day")
      const end = DateTime.startOf(DateTime.add(start, { days: 1 }), "day")
      const date = DateTime.formatIsoDate(start)
      // The markup in force today (a change may be recorded with a later effective date).
      const markupText = yield* markups.markupFor(date).pipe(Effect.mapError(unavailable))
      const markup = BigDecimal.unsafeFromString(markupText)
      const aggregates = yield* store.aggregate({
        clientOrgId: org,
        start: DateTime.toUtc(start),
        end: DateTime.toUtc(end)
      }).pipe(Effect.mapError(unavailable))
      const quote = yield* nbp.latest.pipe(
        Effect.timeoutFail({
          duration: RATE_WAIT,
          onTimeout: () => ({ message: `NBP did not answer within ${Duration.format(RATE_WAIT)}` })
        }),
        Effect.either
      )
      const rate = quote._tag === "Right" ? quote.right : undefined
      const rows = [...aggregates]
        .sort((a, b) => (a.user === b.user ? (a.model < b.model ? -1 : 1) : a.user < b.user ? -1 : 1))
        .map(({ costNusd, ...counts }) => ({
          row: new TodayRow({
            ...counts,
            costUsd: formatUsd(costNusd),
            costPln: rate === undefined ? null : formatDecimal(costPln(costNusd, markup, rate.rate), 2)
          }),
          costNusd
        }))
      const sum = (f: (r: TodayRow) => number) => rows.reduce((n, r) => n + f(r.row), 0)
      // The key drift is an addition: a summary DB that cannot be read leaves it out, not the figures.
      const drift = config.openRouterApiKey === undefined
        ? null
        : driftView(yield* openRouter.latestSnapshot.pipe(Effect.orElseSucceed(() => undefined)))
      return new TodayUsage({
        date,
        timeZone: config.dailyBatchTimeZone,
        from: DateTime.formatIso(DateTime.toUtc(start)),
        asOf: DateTime.formatIso(now),
        billed: false,
        markup: markupText,
        rate: rate === undefined
          ? null
          : new IndicativeRate({ rate: rate.rateText, rateTable: rate.table, rateDate: rate.effectiveDate, stale: rate.stale === true }),
        rateError: quote._tag === "Left" ? `No PLN figure: the NBP rate is not available (${quote.left.message})` : null,
        totals: {
          requests: sum((r) => r.requests),
          inputTokens: sum((r) => r.inputTokens),
          outputTokens: sum((r) => r.outputTokens),
          totalTokens: sum((r) => r.totalTokens),
          cachedTokens: sum((r) => r.cachedTokens),
          reasoningTokens: sum((r) => r.reasoningTokens),
          costUsd: formatUsd(rows.reduce((n, r) => n + r.costNusd, 0n)),
          // A sum of the rows' rounded amounts, like the billed totals.
          costPln: rate === undefined
            ? null
            : formatDecimal(rows.reduce((s, r) => BigDecimal.sum(s, BigDecimal.unsafeFromString(r.row.costPln!)), BigDecimal.unsafeFromString("0")), 2)
        },
        rows: rows.map((r) => r.row),
        keyDrift: drift === null ? null : new KeyDrift(drift)
      })
    })

    /**
     * Finished days of the month with usage in the store and no successful run: invisible in the
     * billed figures, so listed with the command that bills them. One store query per such day;
     * a normal month has none (every day has its run).
     */
    const unbilledDays = (month: string) =>
      Effect.gen(function*() {
        const { from, to } = monthRange(month)
        const todayDay = dayOf(yield* Clock.currentTimeMillis, config.dailyBatchTimeZone)
        const last = to < todayDay ? to : addDays(todayDay, -1)
        if (last < from) return []
        const succeeded = yield* repo.succeededDays(from, last)
        const candidates = daysFrom(from, last).filter((d) => !succeeded.has(d))
        const found: Array<UnbilledDay> = []
        for (const day of candidates) {
          const w = dayWindow(day, config.dailyBatchTimeZone)
          const aggregates = yield* store.aggregate({ clientOrgId: org, start: w.start, end: w.end })
          if (aggregates.length === 0) continue
          found.push(new UnbilledDay({
            date: day,
            requests: aggregates.reduce((n, a) => n + a.requests, 0),
            costUsd: formatUsd(aggregates.reduce((n, a) => n + a.costNusd, 0n)),
            withinCatchUp: day >= addDays(todayDay, -CATCH_UP_DAYS),
            command: `mai-usage batch --run-now --date ${day}`
          }))
        }
        return found
      }).pipe(Effect.mapError(unavailable))

    return handlers
      .handle("daily", ({ request, urlParams }) =>
        Effect.gen(function*() {
          if (urlParams.to < urlParams.from) {
            return yield* new InvalidQuery({ message: `to (${urlParams.to}) is before from (${urlParams.from})` })
          }
          const rows = yield* repo.rows(urlParams).pipe(Effect.mapError(unavailable))
          if (wantsCsv(urlParams, request)) {
            return csvResponse(`mai-usage_${org}_daily_${urlParams.from}_${urlParams.to}`, toCsv(dailyRowColumns, rows, csvOptions(urlParams.dialect)))
          }
          return new DailyRows({ rows })
        }))
      .handle("summary", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const unbilled = yield* unbilledDays(urlParams.month)
          const summary = yield* repo.monthSummary(urlParams.month, unbilled).pipe(Effect.mapError(unavailable))
          if (!wantsCsv(urlParams, request)) return summary
          const list = urlParams.list ?? "rows"
          const name = `mai-usage_${org}_${urlParams.month}_${list}`
          switch (list) {
            case "rows": {
              const rows = yield* repo.rows(monthRange(urlParams.month)).pipe(
                Effect.mapError(unavailable)
              )
              return csvResponse(name, toCsv(dailyRowColumns, rows, csvOptions(urlParams.dialect)))
            }
            case "days":
              return csvResponse(name, toCsv(dayColumns, summary.days, csvOptions(urlParams.dialect)))
            case "users":
              return csvResponse(name, toCsv(userColumns, summary.users, csvOptions(urlParams.dialect)))
            case "models":
              return csvResponse(name, toCsv(modelColumns, summary.models, csvOptions(urlParams.dialect)))
            case "rates":
              return csvResponse(name, toCsv(rateColumns, summary.rates, csvOptions(urlParams.dialect)))
            case "adjustments":
              return csvResponse(name, toCsv(adjustmentColumns, summary.adjustments, csvOptions(urlParams.dialect)))
          }
        }))
      .handle("today", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const usage = yield* today
          if (!wantsCsv(urlParams, request)) return usage
          return csvResponse(
            `mai-usage_${org}_today_${usage.date}`,
            toCsv(todayColumns, usage.rows.map((r) => ({ ...r, date: usage.date })), csvOptions(urlParams.dialect))
          )
        }))
  })).pipe(Layer.provide(ReportRepo.Default))
