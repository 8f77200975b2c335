/**
 * The fields every billed row shares — the daily row, the adjustment line, the statement line,
 * today's row — as schema fields and as CSV column lists, so that each row schema says only what
 * is its own. Self-contained: both `reporting/Model.ts` and `accounting/Model.ts` build on it.
 */
import { Schema } from "effect"

export const Decimal = Schema.String.annotations({ description: "a decimal number as text, e.g. \"0.012345\"" })
const Count = Schema.Int.annotations({ description: "a count" })

export const Tokens = {
  requests: Count,
  inputTokens: Count,
  outputTokens: Count,
  totalTokens: Count,
  cachedTokens: Count,
  reasoningTokens: Count
}
export const tokenColumns = ["requests", "inputTokens", "outputTokens", "totalTokens", "cachedTokens", "reasoningTokens"] as const

/** Who used which model, and how much: one (day, user, model). */
export const Usage = { user: Schema.String, model: Schema.String, ...Tokens }
export const usageColumns = ["user", "model", ...tokenColumns] as const

/** The USD cost, the markup and the NBP table it was priced at, and the PLN amount. */
export const Priced = {
  costUsd: Decimal,
  markup: Decimal,
  rate: Decimal.annotations({ description: "NBP table A USD mid rate" }),
  rateTable: Schema.String.annotations({ description: "NBP table number, e.g. 212/A/NBP/2025" }),
  rateDate: Schema.String.annotations({ description: "the NBP table's effective date" }),
  costPln: Decimal.annotations({ description: "round_half_up(costUsd × markup × rate, 2)" })
}
export const pricedColumns = ["costUsd", "markup", "rate", "rateTable", "rateDate", "costPln"] as const

/** The sums of a group of rows. */
export const Sums = { ...Tokens, costUsd: Decimal, costPln: Decimal }
export const sumColumns = [...tokenColumns, "costUsd", "costPln"] as const

/** The usage and priced fields of a row of another shape (e.g. an adjustment), in column order. */
export const billedFields = <A extends Record<typeof usageColumns[number] | typeof pricedColumns[number], unknown>>(a: A) =>
  Object.fromEntries([...usageColumns, ...pricedColumns].map((c) => [c, a[c]])) as Pick<
    A,
    typeof usageColumns[number] | typeof pricedColumns[number]
  >
