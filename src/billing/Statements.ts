/** Reads what a month's statement is built from, and builds it (JSON model, CSV, its SHA-256). */
import { Clock, Effect } from "effect"
import * as Crypto from "node:crypto"
import { AppConfig } from "../platform/Config.js"
import { monthRange } from "../domain/WarsawDay.js"
import { type ClosingRecord, SummaryRepo } from "./SummaryRepo.js"
import { buildStatement, type Statement, statementCsv, type StatementDialect } from "./Statement.js"
import { type StatementContext, statementDocument, type StatementLang } from "./StatementText.js"

export const sha256 = (text: string) => Crypto.createHash("sha256").update(text, "utf8").digest("hex")

export class Statements extends Effect.Service<Statements>()("mai-usage/Statements", {
  effect: Effect.gen(function*() {
    const repo = yield* SummaryRepo
    const config = yield* AppConfig
    const { clientOrgId } = config
    const inv = config.invoice
    /** The parties (from RESELLER_* and CLIENT_*), the time zone of the times, the rate rule in words. */
    const context: StatementContext = {
      seller: { name: inv.resellerName, nip: inv.resellerNip, address: inv.resellerAddress },
      buyer: { name: inv.clientName, nip: inv.clientNip, address: inv.clientAddress },
      timeZone: config.dailyBatchTimeZone,
      exchangeRateRule: config.exchangeRateRule
    }

    /**
     * The statement of `month`; `closing` overrides the stored state (closing computes the CSV it
     * is about to record).
     */
    const build = (month: string, closing?: ClosingRecord) =>
      Effect.gen(function*() {
        const [rows, adjustments, stored, now] = yield* Effect.all([
          repo.billedRows(monthRange(month)),
          repo.adjustmentsIn(month),
          closing === undefined ? repo.closing(month) : Effect.succeed(closing),
          Clock.currentTimeMillis
        ])
        return buildStatement({
          clientOrgId,
          month,
          rows,
          adjustments,
          closing: stored,
          generatedAt: new Date(now).toISOString()
        })
      })

    return {
      build,
      /** The CSV; English in the default dialect is the canonical one, whose SHA-256 a closing records. */
      csv: (s: Statement, dialect?: StatementDialect, lang: StatementLang = "en") =>
        statementCsv(s, dialect, lang, context.timeZone),
      /** The statement as a person reads it (the PDF and the printable view draw this). */
      document: (s: Statement, lang: StatementLang) => statementDocument(s, lang, context)
    } as const
  })
}) {}
