/** Helpers for tests of the OpenRouter checks running inside the real app (see app.ts) or the CLI. */
import { Effect, SubscriptionRef } from "effect"
import { OpenRouterSchedule } from "../../src/openrouter/OpenRouterLive.js"
import { expect } from "vitest"
import { postWebhook, type TestApp } from "./app.js"
import { type Generation, generationDelivery } from "./otlp.js"
import { API_KEY_NAME, MANAGEMENT_KEY, type OpenRouterStandIn } from "./openRouterStandIn.js"
import { bareEnv } from "./process.js"

/** A CLI child process's environment against the stand-in (its URL, the management key), then `vars`. */
export const standInCliEnv = (or: OpenRouterStandIn, vars: Record<string, string>): Record<string, string> => ({
  ...bareEnv(),
  OPENROUTER_API_URL: or.url,
  OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
  ...vars
})

export const runIn = <A>(app: TestApp, e: Effect.Effect<A, any, any>) => app.runtime.runPromise(e as Effect.Effect<A, any, never>)

/** Waits until the start-up reconciliation round is done, so a test's own checks are not raced. */
export const waitForStartupRound = async (app: TestApp, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while ((await runIn(app, Effect.flatMap(OpenRouterSchedule, (s) => SubscriptionRef.get(s.phase))))._tag !== "Sleeping") {
    if (Date.now() > deadline) throw new Error("the start-up reconciliation round did not finish")
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** One generation delivered over the real webhook (a fixed user and token counts unless given); 200 expected. */
export const deliverGeneration = async (
  url: string,
  g: Pick<Generation, "id" | "time" | "model" | "cost"> & Partial<Generation>
) => {
  const res = await postWebhook(url, generationDelivery({ user: "anna.kowalska@example.pl", inputTokens: 100, outputTokens: 50, apiKeyName: API_KEY_NAME, ...g }))
  expect(res.status).toBe(200)
}

const DAY_MS = 86_400_000
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * The close-with-reconciliation scenario's calendar: the previous month (over, and mostly inside
 * OpenRouter's 30-day window), its last day, and a day three days before it on which OpenRouter
 * counts a request that never reached the ledger.
 */
export const previousMonthWithMissingDay = (now = new Date()) => {
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7)
  const last = utcDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0))
  return { month, last, missing: utcDay(Date.parse(`${last}T00:00:00Z`) - 3 * DAY_MS) }
}
