/**
 * Enforcement against OpenRouter's stand-in: the client budget becomes the key's `limit` (USD) at the
 * figures the rule gives — the key's usage in its limit period plus the remaining PLN at the latest
 * NBP rate and the markup — raised with the budget, held at the usage once the budget is spent,
 * lifted when the budget is removed; every change recorded.
 */
import { BigDecimal } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limitFor } from "../../src/alerts/Enforcement.js"
import { costPln, formatDecimal } from "../../src/domain/Money.js"
import { asAdmin, baseVars, postWebhook, startApp, type TestApp } from "../support/app.js"
import { bareEnv, runCli } from "../support/process.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { API_KEY_HASH, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { generationDelivery } from "../support/otlp.js"

let app: TestApp
let nbp: NbpStandIn
let or: OpenRouterStandIn

const admin = (path: string, init: RequestInit = {}) =>
  fetch(app.url + path, { ...init, headers: { ...asAdmin.headers, "content-type": "application/json", ...(init.headers ?? {}) } })

const latest = () => fixtureTables()[fixtureTables().length - 1]
const rate = () => BigDecimal.unsafeFromString(latest().mid)
const SPENT = () => formatDecimal(costPln(5_000_000_000n, BigDecimal.unsafeFromString("1.3"), rate()), 2)

/** Sets the client budget, evaluates, and waits until the key's limit has changed from `before`. */
const budgetThenLimit = async (amount: string | null, before: number | null) => {
  if (amount === null) expect((await admin("/api/v1/admin/budgets?scope=client", { method: "DELETE" })).status).toBe(200)
  else expect((await admin("/api/v1/admin/budgets", { method: "PUT", body: JSON.stringify({ scope: "client", amountPln: amount }) })).status).toBe(200)
  expect((await admin("/api/v1/admin/budgets/evaluate", { method: "POST" })).status).toBe(200)
  for (let i = 0; i < 100 && or.keyLimit().limit === before; i++) await new Promise((r) => setTimeout(r, 100))
  return or.keyLimit().limit
}

beforeAll(async () => {
  ;[nbp, or] = await Promise.all([startNbpStandIn(), startOpenRouterStandIn()])
  or.setKeyLimit({ limit_reset: "monthly", usage_monthly: 3.257, usage: 40 })
  app = await startApp({
    NBP_API_URL: nbp.url,
    OPENROUTER_API_URL: or.url,
    OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
    OPENROUTER_API_KEY_HASH: API_KEY_HASH,
    BUDGET_ENFORCE: "openrouter"
  })
  const res = await postWebhook(app.url, generationDelivery({ id: "gen-enf-1", time: new Date(), user: "u-1", model: "openai/gpt-4o", inputTokens: 10, outputTokens: 5, cost: 5 }))
  expect(res.status).toBe(200)
})
afterAll(async () => {
  await app?.close()
  await Promise.all([nbp?.close(), or?.close()])
})

describe("the client budget as the key's limit", () => {
  it("is set, raised, held at the usage once spent, and lifted, at the rule's figures, each change recorded", async () => {
    const expected = (amount: string) => Number(limitFor({ amountPln: amount, spendPln: SPENT(), rate: rate(), markup: "1.3", usage: 3.257 }).limitUsd)
    // By hand for 100 PLN: the remaining PLN at rate × 1.3, down to the cent, plus the month's usage.
    const remainingUsd = Math.floor(((100 - Number(SPENT())) / (Number(latest().mid) * 1.3)) * 100) / 100
    expect(expected("100")).toBe(Math.floor((3.257 + remainingUsd) * 100 + 1e-9) / 100)

    const set = await budgetThenLimit("100", null)
    expect(set).toBe(expected("100"))
    const raised = await budgetThenLimit("200", set)
    expect(raised).toBe(expected("200"))
    expect(raised!).toBeGreaterThan(set!)
    // A budget below the spend: nothing remains, the key stops at its usage.
    const spent = await budgetThenLimit("10", raised)
    expect(spent).toBe(3.25)
    // `openrouter check` shows the limit in force.
    const check = await runCli(["openrouter", "check"], {
      ...bareEnv(),
      ...baseVars(app.dataDir),
      OPENROUTER_API_URL: or.url,
      OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
      OPENROUTER_API_KEY_HASH: API_KEY_HASH
    })
    expect(check.stdout).toContain(`(${API_KEY_HASH.slice(0, 12)}…): limit USD 3.25 (monthly), usage in the period USD 3.26`)
    const lifted = await budgetThenLimit(null, spent)
    expect(lifted).toBe(null)

    const alerts = (await (await admin("/api/v1/admin/budgets/alerts")).json()) as any
    expect(alerts.limitChanges.map((c: any) => [c.keyHash, c.limitUsd, c.status])).toEqual([
      [API_KEY_HASH, null, "sent"],
      [API_KEY_HASH, "3.25", "sent"],
      [API_KEY_HASH, expected("200").toFixed(2), "sent"],
      [API_KEY_HASH, expected("100").toFixed(2), "sent"]
    ])
    expect(alerts.limitChanges[3].reason).toContain(`budget PLN 100.00, spent PLN ${SPENT()}`)
    expect(alerts.limitChanges[3].reason).toContain(`key usage USD 3.26 (monthly)`)
    expect(alerts.limitChanges[0].reason).toBe("the client budget was removed: the limit is lifted")
    const patches = or.requests().filter((r) => r.method === "PATCH" && r.path.startsWith("/api/v1/keys/"))
    expect(patches).toHaveLength(4)
  }, 60_000)
})
