/**
 * Pricing a day: cost_usd exact, cost_pln = round_half_up(cost_usd × markup × rate, 2) per row,
 * at the day's NBP rate and the markup in force on that day (markup_history), never today's.
 * Totals are sums of the rows, so they always match the lines shown.
 */
import { BigDecimal } from "effect"
import { costPln, formatDecimal, formatUsd } from "../domain/Money.js"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import type { RateQuote } from "../rates/NbpRate.js"
import type { DayRow } from "./SummaryRepo.js"

export const priceRow = (a: UsageAggregate, quote: RateQuote, markup: string): DayRow => ({
  ...a,
  costUsd: formatUsd(a.costNusd),
  markup,
  rate: quote.rateText,
  rateTable: quote.table,
  rateDate: quote.effectiveDate,
  costPln: formatDecimal(costPln(a.costNusd, BigDecimal.unsafeFromString(markup), quote.rate), 2)
})

/** The rows' USD and PLN totals, as shown. */
export const totals = (
  rows: ReadonlyArray<{ readonly costNusd: bigint; readonly costPln: string }>
): { readonly totalUsd: string; readonly totalPln: string } => ({
  totalUsd: formatUsd(rows.reduce((s, r) => s + r.costNusd, 0n)),
  totalPln: formatDecimal(
    rows.reduce((s, r) => BigDecimal.sum(s, BigDecimal.unsafeFromString(r.costPln)), BigDecimal.fromBigInt(0n)),
    2
  )
})

/**
 * What OpenRouter cost the reseller for rows, in PLN: each row's USD at its own NBP rate without
 * the markup, rounded half up to the grosz like a billed row, summed. The margin is the billed PLN
 * minus this, so both sides use the same rates and the same rounding.
 */
export const openRouterPln = (
  rows: ReadonlyArray<{ readonly costNusd: bigint; readonly row: { readonly rate: string } }>
): BigDecimal.BigDecimal =>
  rows.reduce(
    (s, r) => BigDecimal.sum(s, costPln(r.costNusd, BigDecimal.fromBigInt(1n), BigDecimal.unsafeFromString(r.row.rate))),
    BigDecimal.fromBigInt(0n)
  )
