/**
 * A root generation span whose usage is invalid: kept in quarantine with its reason instead of
 * being billed or failing its delivery. Only ids, numbers and the reason are kept, never prompt or
 * completion text; every text is cut to the field bound so a hostile value cannot grow the table.
 */

/** The bounds a billable span must respect. */
export const MAX_TOKENS = 1_000_000_000_000
/** 10,000 USD in nano-USD. */
export const MAX_COST_NUSD = 10_000n * 1_000_000_000n
/** user, model, API key name, provider and generation id, in UTF-8 bytes. */
export const MAX_FIELD_BYTES = 512
/** How much of an invalid number's text is kept for the operator. */
export const MAX_VALUE_CHARS = 40

/** Short, stable reason codes: the `reason` label of the rejected-events metric. */
export type RejectReason = "token-count" | "cost" | "field-too-long" | "start-time" | "no-id" | "duplicate-attribute"

export interface RejectedSpan {
  /** The span's idempotency key (bounded): a redelivery of the same span is kept once. */
  readonly spanKey: string
  readonly generationId: string
  readonly traceId: string
  readonly spanId: string
  readonly eventTimeNs: bigint | null
  readonly clientOrgId: string
  readonly user: string
  readonly model: string
  readonly apiKeyName: string
  readonly provider: string
  /** The five token counts and the cost as received (text, cut), null when absent. */
  readonly inputTokens: string | null
  readonly outputTokens: string | null
  readonly totalTokens: string | null
  readonly cachedTokens: string | null
  readonly reasoningTokens: string | null
  readonly cost: string | null
  readonly reason: RejectReason
  /** One line naming the attribute and the bound, e.g. "gen_ai.usage.input_tokens is fractional". */
  readonly detail: string
}

export const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")

/** Cuts to at most `max` UTF-8 bytes without splitting a character. */
export const cutBytes = (s: string, max = MAX_FIELD_BYTES): string => {
  if (s.length * 3 <= max || utf8Bytes(s) <= max) return s
  let out = Buffer.from(s, "utf8").subarray(0, max).toString("utf8")
  while (out.endsWith("\uFFFD") || utf8Bytes(out) > max) out = out.slice(0, -1)
  return out
}
