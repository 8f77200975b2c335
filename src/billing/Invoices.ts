/**
 * The FA(3) invoice draft of a month, read through billing's own services: the closing record
 * (`SummaryRepo.closing`) and the statement (`Statements.build`), drafted by the pure
 * `InvoiceDraft.ts` with the parties and options of the configuration. The issue date is the
 * Warsaw date of the request unless one is given. Used by the admin API and the CLI alike.
 */
import { Clock, Effect, Schema } from "effect"
import { isMonth, warsawDay } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { CODE_VERSION } from "../platform/Version.js"
import { buildInvoiceDraft, type InvoiceDraft, InvoiceRefused, loadXmlBuilder } from "./InvoiceDraft.js"
import { Statements } from "./Statements.js"
import { SummaryRepo } from "./SummaryRepo.js"

export { type InvoiceDraft, InvoiceRefused }

/** The summary DB could not be read; nothing drafted. */
export class InvoiceUnavailable extends Schema.TaggedError<InvoiceUnavailable>()("InvoiceUnavailable", {
  message: Schema.String
}) {}

export type InvoiceError = InvoiceRefused | InvoiceUnavailable

export interface DraftOptions {
  /** P_1, YYYY-MM-DD; unset → today in Warsaw */
  readonly issueDate?: string | undefined
}

const make = Effect.gen(function*() {
  const repo = yield* SummaryRepo
  const statements = yield* Statements
  const config = yield* AppConfig
  const unavailable = (e: { readonly message: string }) => new InvoiceUnavailable({ message: e.message })

  const draft = (month: string, options: DraftOptions = {}): Effect.Effect<InvoiceDraft, InvoiceError> =>
    Effect.gen(function*() {
      if (!isMonth(month)) return yield* new InvoiceRefused({ message: `invalid month ${JSON.stringify(month)}: expected YYYY-MM` })
      const closing = yield* Effect.mapError(repo.closing(month), unavailable)
      const statement = yield* Effect.mapError(statements.build(month), unavailable)
      const now = yield* Clock.currentTimeMillis
      yield* Effect.promise(loadXmlBuilder)
      return yield* buildInvoiceDraft({
        statement,
        closing,
        invoice: config.invoice,
        clientOrgId: config.clientOrgId,
        issueDate: options.issueDate ?? warsawDay(now),
        generatedAt: new Date(now).toISOString(),
        systemInfo: `mai-usage ${CODE_VERSION}`
      })
    })

  return { draft } as const
})

/** Over SummaryRepo and AppConfig (Statements comes with it). */
export class Invoices extends Effect.Service<Invoices>()("mai-usage/Invoices", {
  effect: make,
  dependencies: [Statements.Default]
}) {}
