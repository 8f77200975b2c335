import type { BigDecimal } from "effect"
import type { ExchangeRateRule, NbpTable } from "../domain/RateRule.js"

/** A rate ready to convert USD to PLN, always traceable to its NBP table. */
export interface RateQuote {
  readonly rate: BigDecimal.BigDecimal
  /** the mid rate as NBP published it, e.g. "3.6383" */
  readonly rateText: string
  /** NBP table number, e.g. "232/A/NBP/2025" */
  readonly table: string
  /** YYYY-MM-DD, the day NBP published the table */
  readonly effectiveDate: string
  /** the usage day asked for, when the quote answers a dated question */
  readonly requestedDate?: string
  readonly rule?: ExchangeRateRule
  /** true when NBP could not be reached and the last good latest table is served */
  readonly stale?: boolean
}

/** A table as the caches hold it: when it was fetched and whether it is a stale fallback. */
export interface CachedTable {
  readonly table: NbpTable
  /** epoch millis of the successful upstream fetch */
  readonly fetchedAt: number
  readonly stale: boolean
}

export const toRateQuote = (
  cached: CachedTable,
  request?: { readonly day: string; readonly rule: ExchangeRateRule }
): RateQuote => ({
  rate: cached.table.mid,
  rateText: cached.table.midText,
  table: cached.table.no,
  effectiveDate: cached.table.effectiveDate,
  ...(request === undefined ? {} : { requestedDate: request.day, rule: request.rule }),
  stale: cached.stale
})
