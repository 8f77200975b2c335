import type { UsageEvent } from "../../src/domain/UsageEvent.js"
import { nanoUsd } from "./money.js"

let seq = 0

/**
 * One ledger event for tests that write the ledger directly: fixed figures, with whatever the test
 * is about given in `over` (`at`, an ISO instant, and `cost`, USD as decimal text, are shorthands
 * for the event time and the cost). Each event gets its own id unless one is given.
 */
export const usageEvent = (over: Partial<UsageEvent> & { readonly at?: string; readonly cost?: string } = {}): UsageEvent => {
  const { at, cost, ...fields } = over
  return {
    generationId: `gen-test-${process.pid}-${++seq}`,
    eventTimeNs: at === undefined ? 1_790_000_000_000_000_000n : BigInt(Date.parse(at)) * 1_000_000n,
    clientOrgId: "default",
    user: "u",
    model: "m",
    apiKeyName: "test key",
    provider: "test provider",
    inputTokens: 100,
    outputTokens: 20,
    totalTokens: 120,
    cachedTokens: 0,
    reasoningTokens: 5,
    costNusd: cost === undefined ? 1_000n : nanoUsd(cost),
    ...fields
  }
}
