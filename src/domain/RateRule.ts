/**
 * Which NBP table converts a cost incurred on a given day.
 *
 * Polish tax law uses NBP's table A of the last business day before the day
 * of the cost. "Business day" means "NBP published a table": the selection
 * reads NBP's own list of tables and never consults a holiday calendar.
 */
import { BigDecimal, Either, Option, Schema } from "effect"
import { addDays, parseDay } from "./WarsawDay.js"

/** `EXCHANGE_RATE_RULE`: which table converts a day's cost (docs/nbp.md). */
export const ExchangeRateRule = Schema.Literal("previous-business-day", "same-day").annotations({
  identifier: "ExchangeRateRule"
})
export type ExchangeRateRule = typeof ExchangeRateRule.Type

export const exchangeRateRules: ReadonlyArray<ExchangeRateRule> = ExchangeRateRule.literals

/** One published NBP table A, reduced to the USD row. */
export interface NbpTable {
  /** table number, e.g. "232/A/NBP/2025" */
  readonly no: string
  /** publication day, YYYY-MM-DD */
  readonly effectiveDate: string
  readonly mid: BigDecimal.BigDecimal
  /** the mid rate as NBP published it, e.g. "3.6383" */
  readonly midText: string
}

/** The first day NBP's API has table A data for. */
export const firstNbpDay = "2002-01-02"

export const isExchangeRateRule: (input: unknown) => input is ExchangeRateRule = Schema.is(ExchangeRateRule)

export const parseExchangeRateRule = (input: string): Either.Either<ExchangeRateRule, string> =>
  isExchangeRateRule(input)
    ? Either.right(input)
    : Either.left(`invalid rule ${JSON.stringify(input)}: expected one of ${exchangeRateRules.join(", ")}`)

/**
 * How far back to look for a previous table. NBP's longest gaps (Easter,
 * Christmas to New Year) are under a week; two weeks leaves ample margin
 * without depending on a holiday calendar.
 */
export const lookbackDays = 14

/**
 * The inclusive range of days whose tables can decide `day` under `rule`.
 * The answer is the newest table inside this range.
 */
export const candidateRange = (
  day: string,
  rule: ExchangeRateRule
): { readonly start: string; readonly end: string } => {
  const end = rule === "same-day" ? day : addDays(day, -1)
  return { start: addDays(end, -(lookbackDays - 1)), end }
}

/**
 * Picks the table for a usage day.
 * - `previous-business-day`: the newest table with effectiveDate strictly before `day`.
 * - `same-day`: the table of `day`, else the newest before it.
 * `tables` may be in any order; ISO days compare correctly as strings.
 */
export const selectTable = (
  tables: ReadonlyArray<NbpTable>,
  day: string,
  rule: ExchangeRateRule
): Option.Option<NbpTable> => {
  let best: NbpTable | undefined
  for (const table of tables) {
    const eligible = rule === "same-day" ? table.effectiveDate <= day : table.effectiveDate < day
    if (eligible && (best === undefined || table.effectiveDate > best.effectiveDate)) {
      best = table
    }
  }
  return Option.fromNullable(best)
}

/**
 * NBP publishes table A mid rates with four decimals; JSON may drop trailing
 * zeros, so the text is padded back to at least four.
 */
export const normalizeMidText = (text: string): string => {
  const [whole, fraction = ""] = text.split(".")
  return fraction.length >= 4 ? text : `${whole}.${fraction.padEnd(4, "0")}`
}

/** Builds a table from NBP's decimal text, refusing anything that is not a plain positive decimal. */
export const makeTable = (no: string, effectiveDate: string, midText: string): Either.Either<NbpTable, string> => {
  if (!/^\d+(\.\d+)?$/.test(midText)) {
    return Either.left(`table ${no}: mid ${JSON.stringify(midText)} is not a decimal`)
  }
  const text = normalizeMidText(midText)
  const mid = BigDecimal.unsafeFromString(text)
  if (!BigDecimal.isPositive(mid)) {
    return Either.left(`table ${no}: mid ${text} is not positive`)
  }
  return Either.match(parseDay(effectiveDate), {
    onLeft: (e) => Either.left(e.message),
    onRight: (effectiveDate) => Either.right({ no, effectiveDate, mid, midText: text })
  })
}
