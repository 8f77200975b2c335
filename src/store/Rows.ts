/** Our SQLite tables spell the usage figures in snake_case; these read them back. */
import type { TokenCounts, UsageAggregate } from "../domain/UsageEvent.js"

type Int = bigint | number

export interface TokenColumns {
  readonly input_tokens: Int
  readonly output_tokens: Int
  readonly total_tokens: Int
  readonly cached_tokens: Int
  readonly reasoning_tokens: Int
}

export interface AggregateColumns extends TokenColumns {
  readonly user: string
  readonly model: string
  readonly requests: Int
  readonly cost_nusd: Int
}

export const tokenCounts = (r: TokenColumns): TokenCounts => ({
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  totalTokens: Number(r.total_tokens),
  cachedTokens: Number(r.cached_tokens),
  reasoningTokens: Number(r.reasoning_tokens)
})

export const usageAggregate = (r: AggregateColumns): UsageAggregate => ({
  user: r.user,
  model: r.model,
  requests: Number(r.requests),
  ...tokenCounts(r),
  costNusd: BigInt(r.cost_nusd)
})
