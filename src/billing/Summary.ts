/**
 * A month's figures from its rows: every total is a sum of the rows shown, USD summed
 * as exact nano-USD, PLN as the sum of the rows' rounded PLN amounts — never re-converted.
 */
import { BigDecimal } from "effect"
import { formatDecimal, formatUsd } from "../domain/Money.js"
import { DayTotal, ModelTotal, RateUsed, Totals, UserTotal, type DailyRow } from "../api/UsageModel.js"

/** A row as read from the summary DB: the API's row plus its exact integer cost. */
export interface BilledRow {
  readonly row: DailyRow
  readonly costNusd: bigint
}

interface Sum {
  requests: number
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cachedTokens: number
  reasoningTokens: number
  costNusd: bigint
  costPln: BigDecimal.BigDecimal
}

/** Every count of a row at zero. */
export const noTokens = { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedTokens: 0, reasoningTokens: 0 }

const emptySum = (): Sum => ({ ...noTokens, costNusd: 0n, costPln: BigDecimal.unsafeFromString("0") })

const add = (s: Sum, { costNusd, row }: BilledRow) => {
  s.requests += row.requests
  s.inputTokens += row.inputTokens
  s.outputTokens += row.outputTokens
  s.totalTokens += row.totalTokens
  s.cachedTokens += row.cachedTokens
  s.reasoningTokens += row.reasoningTokens
  s.costNusd += costNusd
  s.costPln = BigDecimal.sum(s.costPln, BigDecimal.unsafeFromString(row.costPln))
}

const fields = (s: Sum) => ({
  requests: s.requests,
  inputTokens: s.inputTokens,
  outputTokens: s.outputTokens,
  totalTokens: s.totalTokens,
  cachedTokens: s.cachedTokens,
  reasoningTokens: s.reasoningTokens,
  costUsd: formatUsd(s.costNusd),
  costPln: formatDecimal(s.costPln, 2)
})

const groupBy = (rows: ReadonlyArray<BilledRow>, key: (r: DailyRow) => string) => {
  const groups = new Map<string, { sum: Sum; rows: Array<BilledRow> }>()
  for (const r of rows) {
    const k = key(r.row)
    let g = groups.get(k)
    if (g === undefined) groups.set(k, g = { sum: emptySum(), rows: [] })
    add(g.sum, r)
    g.rows.push(r)
  }
  return groups
}

const distinct = (values: ReadonlyArray<string>) => [...new Set(values)].join("; ")

const byCostDescending = (a: { costUsd: string }, b: { costUsd: string }) =>
  BigDecimal.Order(BigDecimal.unsafeFromString(b.costUsd), BigDecimal.unsafeFromString(a.costUsd))

export const totalsOf = (rows: ReadonlyArray<BilledRow>): Totals => {
  const s = emptySum()
  for (const r of rows) add(s, r)
  return new Totals(fields(s))
}

export const summarise = (rows: ReadonlyArray<BilledRow>) => {
  const days = [...groupBy(rows, (r) => r.date)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([date, g]) =>
      new DayTotal({
        date,
        ...fields(g.sum),
        rate: distinct(g.rows.map((r) => r.row.rate)),
        rateTable: distinct(g.rows.map((r) => r.row.rateTable)),
        rateDate: distinct(g.rows.map((r) => r.row.rateDate))
      })
    )
  const users = [...groupBy(rows, (r) => r.user)]
    .map(([user, g]) => new UserTotal({ user, ...fields(g.sum) }))
    .sort(byCostDescending)
  const models = [...groupBy(rows, (r) => r.model)]
    .map(([model, g]) => new ModelTotal({ model, ...fields(g.sum) }))
    .sort(byCostDescending)
  const rates = new Map<string, RateUsed>()
  for (const { row } of rows) {
    const key = [row.date, row.rate, row.rateTable, row.rateDate].join("\u0000")
    if (!rates.has(key)) {
      rates.set(key, new RateUsed({ usageDate: row.date, rate: row.rate, rateTable: row.rateTable, rateDate: row.rateDate }))
    }
  }
  return {
    totals: totalsOf(rows),
    days,
    users,
    models,
    rates: [...rates.values()].sort((a, b) => (a.usageDate < b.usageDate ? -1 : a.usageDate > b.usageDate ? 1 : 0))
  }
}
