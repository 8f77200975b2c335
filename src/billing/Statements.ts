/** Reads what a month's statement is built from, and builds it (JSON model, CSV, its SHA-256). */
import { Clock, Effect } from "effect"
import * as Crypto from "node:crypto"
import { AppConfig } from "../platform/Config.js"
import { monthRange } from "../domain/WarsawDay.js"
import { type ClosingRecord, SummaryRepo } from "./SummaryRepo.js"
import { buildStatement, type Statement, statementCsv, type StatementDialect } from "./Statement.js"

export const sha256 = (text: string) => Crypto.createHash("sha256").update(text, "utf8").digest("hex")

export class Statements extends Effect.Service<Statements>()("mai-usage/Statements", {
  effect: Effect.gen(function*() {
    const repo = yield* SummaryRepo
    const { clientOrgId } = yield* AppConfig

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

    return { build, csv: (s: Statement, dialect?: StatementDialect) => statementCsv(s, dialect) } as const
  })
}) {}
