/** The handlers of `MonthsApi` and `StatementsApi`: the same `Months` program as the CLI. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer } from "effect"
import { AppConfig } from "../platform/Config.js"
import { MaiApi } from "../api/Api.js"
import { Conflict, Unavailable, unavailable } from "../api/ApiErrors.js"
import { AuditEntryView, ClosedMonth, MonthsView, ReopenedMonth } from "../api/AccountingApi.js"
import type { ClosedBy, ClosingRecord } from "../billing/SummaryRepo.js"
import { type MonthError, Months } from "../billing/Months.js"
import { closingOf } from "../billing/Statement.js"
import { statementPdf } from "../billing/StatementPdf.js"
import { Statements } from "../billing/Statements.js"

const asHttp = (e: MonthError) =>
  e._tag === "MonthRefused" ? new Conflict({ message: e.message }) : unavailable(e)

/** A bearer token is an API client; the session cookie alone is the dashboard. */
const whoAsks = (request: HttpServerRequest.HttpServerRequest): ClosedBy =>
  /^bearer\s/i.test(request.headers["authorization"] ?? "") ? "api" : "dashboard"

const closedMonth = (c: ClosingRecord) => new ClosedMonth({ month: c.month, ...closingOf(c) })

export const MonthsApiLive = HttpApiBuilder.group(MaiApi, "months", (handlers) =>
  Effect.gen(function*() {
    const months = yield* Months
    return handlers
      .handle("close", ({ path, payload, request, urlParams }) =>
        months.close(path.month, whoAsks(request), urlParams.reason ?? payload?.reason, {
          acceptUnreconciled: urlParams.acceptUnreconciled === "true",
          ...(payload?.by === undefined ? {} : { closerName: payload.by })
        }).pipe(
          Effect.map(closedMonth),
          Effect.mapError(asHttp)
        ))
      .handle("reopen", ({ path, request, urlParams }) =>
        months.reopen(path.month, whoAsks(request), urlParams.reason).pipe(
          Effect.map((r) => new ReopenedMonth({ month: r.month, reopenedAt: r.at, foldedAdjustments: r.folded })),
          Effect.mapError(asHttp)
        ))
      .handle("list", () =>
        Effect.all([months.closings, months.audit()]).pipe(
          Effect.map(([closed, audit]) =>
            new MonthsView({
              closed: closed.map(closedMonth),
              audit: audit.map(({ closerName, reconciliation, ...a }) =>
                new AuditEntryView({
                  ...a,
                  ...(reconciliation === null ? {} : { reconciliation }),
                  ...(closerName === null ? {} : { closerName })
                }))
            })
          ),
          Effect.mapError(asHttp)
        ))
  }))

const wants = (format: "json" | "csv" | "pdf" | "document" | undefined, request: HttpServerRequest.HttpServerRequest) => {
  if (format !== undefined) return format
  const accept = request.headers["accept"] ?? ""
  if (/\bapplication\/pdf\b/i.test(accept)) return "pdf"
  if (/\btext\/csv\b/i.test(accept)) return "csv"
  return "json"
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_")

export const StatementsApiLive = HttpApiBuilder.group(MaiApi, "statements", (handlers) =>
  Effect.gen(function*() {
    const statements = yield* Statements
    const { clientOrgId } = yield* AppConfig
    return handlers.handle("statement", ({ path, request, urlParams }) =>
      Effect.gen(function*() {
        const statement = yield* statements.build(path.month).pipe(
          Effect.mapError(unavailable)
        )
        const lang = urlParams.lang ?? "pl"
        const name = safeName(`mai-usage_${clientOrgId}_${lang === "pl" ? "zestawienie" : "statement"}_${path.month}`)
        switch (urlParams.dialect !== undefined && urlParams.format === undefined ? "csv" : wants(urlParams.format, request)) {
          case "json":
            return statement
          case "document":
            return HttpServerResponse.unsafeJson(statements.document(statement, lang))
          case "csv":
            return HttpServerResponse.text(statements.csv(statement, urlParams.dialect, lang), {
              contentType: "text/csv; charset=utf-8; header=present",
              headers: { "content-disposition": `attachment; filename="${name}.csv"` }
            })
          case "pdf": {
            const pdf = yield* Effect.tryPromise({
              try: () => statementPdf(statements.document(statement, lang)),
              catch: (e) => new Unavailable({ message: `the PDF could not be made: ${(e as Error).message}` })
            })
            return HttpServerResponse.uint8Array(pdf, {
              contentType: "application/pdf",
              headers: { "content-disposition": `inline; filename="${name}.pdf"` }
            })
          }
        }
      }))
  })).pipe(Layer.provide(Statements.Default))
