/**
 * A month's statement as documents, each endpoint with its own media type, so that a typed client
 * (the reseller's console, collecting every client's documents into one archive) receives the PDF's
 * bytes and the CSV's text through the contract rather than a JSON shape. The same statement as
 * `GET /api/v1/statements/:month?format=pdf|csv`. Admin. Handlers in `http/DocumentsHttp.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { CsvDialectParam, CsvLangParam } from "../domain/Csv.js"
import { Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { Unavailable } from "./ApiErrors.js"

const MonthPath = Schema.Struct({ month: Month })

export class DocumentsApi extends adminGroup("documents")
  .add(
    HttpApiEndpoint.get("statementPdf", "/:month/statement.pdf")
      .setPath(MonthPath)
      .setUrlParams(Schema.Struct({ lang: Schema.optional(CsvLangParam) }))
      .addSuccess(HttpApiSchema.Uint8Array({ contentType: "application/pdf" }))
      .annotateContext(OpenApi.annotations({ description: "The month's statement as PDF: Polish, or English with lang=en." }))
  )
  .add(
    HttpApiEndpoint.get("statementCsv", "/:month/statement.csv")
      .setPath(MonthPath)
      .setUrlParams(Schema.Struct({ dialect: Schema.optional(CsvDialectParam), lang: Schema.optional(CsvLangParam) }))
      .addSuccess(HttpApiSchema.Text({ contentType: "text/csv; charset=utf-8" }))
      .annotateContext(OpenApi.annotations({
        description: "The month's statement as CSV: English in the default dialect unless asked otherwise (for a closed " +
          "month, the bytes whose SHA-256 its close recorded); lang=pl for Polish headers."
      }))
  )
  .addError(Unavailable)
  .prefix("/api/v1/admin/documents")
{}
