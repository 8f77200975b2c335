/** Our SQLite tables spell the usage figures in snake_case; these read them back. */
import type { TokenCounts, UsageAggregate } from "../domain/UsageEvent.js"

type Int = bigint | number

export type TokenColumns = { readonly [K in TokenColumn]: Int }

export interface AggregateColumns extends TokenColumns {
  readonly user: string
  readonly model: string
  readonly requests: Int
  readonly cost_nusd: Int
}

/** The priced columns of a daily_usage or adjustments row (decimal text). */
export interface PricedColumns {
  readonly cost_usd: string
  readonly markup: string
  readonly rate: string
  readonly rate_table: string
  readonly rate_date: string
  readonly cost_pln: string
}

export const pricedFields = (r: PricedColumns) => ({
  costUsd: r.cost_usd,
  markup: r.markup,
  rate: r.rate,
  rateTable: r.rate_table,
  rateDate: r.rate_date,
  costPln: r.cost_pln
})

/** A count as a JS number, or a clear error when it is beyond what a number holds exactly (2^53). */
export const exactCount = (value: Int, what: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new Error(`${what} = ${value} is beyond the largest count kept exactly (2^53 - 1)`)
  return n
}

/** The token columns of every usage table (ledger_events, daily_usage, adjustments, InfluxDB fields). */
export const TOKEN_COLUMNS = ["input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens"] as const
export type TokenColumn = typeof TOKEN_COLUMNS[number]

/** The usage columns summed per (user, model): the token counts and the exact cost. */
export const SUMMED = [...TOKEN_COLUMNS, "cost_nusd"] as const
export type SummedColumn = typeof SUMMED[number]

/** `api_key_name` → `apiKeyName`: a column's field in the domain types. */
export const fieldOf = (column: string): string => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S

/** A row with its columns renamed to their fields (`statement_sha256` → `statementSha256`), values as read. */
export type CamelRow<R> = { readonly [K in keyof R as K extends string ? CamelCase<K> : never]: R[K] }

export const camelRow = <R extends object>(r: R): CamelRow<R> =>
  Object.fromEntries(Object.entries(r).map(([c, v]) => [fieldOf(c), v])) as CamelRow<R>

/** The token counts, each read by `count` from its column. */
export const tokenCountsBy = (count: (column: TokenColumn) => number): TokenCounts =>
  Object.fromEntries(TOKEN_COLUMNS.map((c) => [fieldOf(c), count(c)])) as unknown as TokenCounts

export const tokenCounts = (r: TokenColumns): TokenCounts => tokenCountsBy((c) => exactCount(r[c], c))

export const usageAggregate = (r: AggregateColumns): UsageAggregate => ({
  user: r.user,
  model: r.model,
  requests: exactCount(r.requests, "requests"),
  ...tokenCounts(r),
  costNusd: BigInt(r.cost_nusd)
})

const SPLIT = 1_000_000_000n

/**
 * SQLite's `sum()` of integers fails with "integer overflow" past 2^63 (two events of 5e9 USD are
 * 1e19 nano-USD). Each column is summed as two parts that cannot overflow — the quotient and the
 * remainder by 10^9 (each part of one row is below 2^63 / 10^9) — and joined exactly as BigInt.
 */
export const splitSums = SUMMED.map((c) => `sum(${c} / ${SPLIT}) AS ${c}_hi, sum(${c} % ${SPLIT}) AS ${c}_lo`).join(", ")

export type SplitAggregateColumns =
  & { readonly user: string; readonly model: string; readonly requests: Int }
  & { readonly [K in `${SummedColumn}_${"hi" | "lo"}`]: Int }

export const joinSplitSums = (r: SplitAggregateColumns): AggregateColumns => {
  const sums = Object.fromEntries(SUMMED.map((c) => [c, BigInt(r[`${c}_hi`]) * SPLIT + BigInt(r[`${c}_lo`])]))
  return { user: r.user, model: r.model, requests: r.requests, ...(sums as Record<SummedColumn, bigint>) }
}
