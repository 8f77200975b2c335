import type { UsageEvent } from "../../src/domain/UsageEvent.js"

/** One ledger event for the store tests: fixed figures, the id (and optionally the cost) chosen. */
export const usageEvent = (generationId: string, costNusd = 1_000n): UsageEvent => ({
  generationId,
  eventTimeNs: 1_790_000_000_000_000_000n,
  clientOrgId: "acme",
  user: "u",
  model: "m",
  apiKeyName: "k",
  provider: "p",
  inputTokens: 1,
  outputTokens: 2,
  totalTokens: 3,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd
})
