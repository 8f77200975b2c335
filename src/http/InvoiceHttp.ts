/** The handler of `InvoicesApi`: the same `Invoices` program as the CLI's `invoice draft`. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer } from "effect"
import { MaiApi } from "../api/Api.js"
import { Conflict, InvalidQuery, unavailable } from "../api/ApiErrors.js"
import { issueDateProblem } from "../billing/InvoiceDraft.js"
import { type InvoiceError, Invoices } from "../billing/Invoices.js"
import { AppConfig } from "../platform/Config.js"

const asHttp = (e: InvoiceError) => (e._tag === "InvoiceRefused" ? new Conflict({ message: e.message }) : unavailable(e))

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_")

export const InvoicesApiLive = HttpApiBuilder.group(MaiApi, "invoices", (handlers) =>
  Effect.gen(function*() {
    const invoices = yield* Invoices
    const { clientOrgId } = yield* AppConfig
    return handlers.handle("fa3", ({ path, urlParams }) =>
      Effect.gen(function*() {
        if (urlParams.issueDate !== undefined) {
          const why = issueDateProblem(path.month, urlParams.issueDate)
          if (why !== undefined) return yield* new InvalidQuery({ message: why })
        }
        const draft = yield* Effect.mapError(invoices.draft(path.month, { issueDate: urlParams.issueDate }), asHttp)
        return HttpServerResponse.text(draft.xml, {
          contentType: "application/xml; charset=utf-8",
          headers: { "content-disposition": `attachment; filename="${safeName(`mai-usage_${clientOrgId}_FA3_${path.month}`)}.xml"` }
        })
      }))
  })).pipe(Layer.provide(Invoices.Default))
