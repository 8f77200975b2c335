/** The five token counts of a delivery (cached ⊂ input, reasoning ⊂ output). */
export interface TokenCounts {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly totalTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
}

/** One billed LLM request, as kept in the ledger and written to InfluxDB. */
export interface UsageEvent extends TokenCounts {
  readonly generationId: string
  /** Request start, nanoseconds since the Unix epoch. */
  readonly eventTimeNs: bigint
  readonly clientOrgId: string
  readonly user: string
  readonly model: string
  readonly apiKeyName: string
  readonly provider: string
  /**
   * The cost in nano-USD; null while it is pending: the span carried token counts but no cost (its
   * Broadcast destination does not send cost metadata). Never billed as 0: filled from OpenRouter's
   * record of the generation (`mai-usage costs fill`) before its day can be billed.
   */
  readonly costNusd: bigint | null
}

/** Per (user, model) sums over a time window: what the daily batch summarises. */
export interface UsageAggregate extends TokenCounts {
  readonly user: string
  readonly model: string
  readonly requests: number
  readonly costNusd: bigint
}

/** Why a delivery's content was answered 2xx but not stored. */
export type IgnoredReason = "connection-test" | "error-no-cost" | "api-key-not-allowed" | "no-usage"
