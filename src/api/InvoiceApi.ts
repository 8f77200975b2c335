/**
 * The invoice API's contract: the FA(3) XML invoice draft of a closed month (admin). Handlers in
 * `http/InvoiceHttp.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Day, Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { Conflict, InvalidQuery, Unavailable } from "./ApiErrors.js"

export class InvoicesApi extends adminGroup("invoices")
  .add(
    HttpApiEndpoint.get("fa3", "/:month/fa3.xml")
      .setPath(Schema.Struct({ month: Month }))
      .setUrlParams(Schema.Struct({
        issueDate: Schema.optional(Day).annotations({
          description: "the issue date (P_1), not before the month's last day; default: today in Warsaw"
        })
      }))
      .addSuccess(HttpApiSchema.Text({ contentType: "application/xml" }))
      .annotateContext(OpenApi.annotations({
        description: "The FA(3) XML invoice draft of a closed month, for KSeF (namespace " +
          "http://crd.gov.pl/wzor/2025/06/25/13775/): the reseller as seller (RESELLER_NAME, RESELLER_NIP, " +
          "RESELLER_ADDRESS), the client as buyer (CLIENT_NAME, CLIENT_NIP, CLIENT_ADDRESS), one line per model " +
          "(or one for the month, INVOICE_LINES=month) whose nets add up to the closed statement's total PLN, VAT at " +
          "INVOICE_VAT_RATE on the total, and the statement's SHA-256 in DodatkowyOpis. Nothing is sent to KSeF. " +
          "An open month, or a party's NIP not configured, is refused with 409."
      }))
  )
  .addError(Conflict)
  .addError(InvalidQuery)
  .addError(Unavailable)
  .prefix("/api/v1/invoices")
{}
