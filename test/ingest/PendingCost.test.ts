/**
 * A missing cost is never zero: a span with token counts and no cost is stored with its cost
 * pending; its day refuses to bill, naming the count and the command; `mai-usage costs fill` takes
 * the cost from OpenRouter's record of the generation (the stand-in), and the day then bills that
 * exact cost. Also: a header never discards usage, and a redelivery that says otherwise is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, asAdmin, postWebhook, startApp, type TestApp } from "../support/app.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { API_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { delivery } from "../support/otlp.js"
import { bareEnv, runCli } from "../support/process.js"

let app: TestApp
let nbp: NbpStandIn
let or: OpenRouterStandIn

const DAY = "2025-11-12"
const at = (time: string) => BigInt(Date.parse(`${DAY}T${time}Z`)) * 1_000_000n

/** A delivery of one generation whose spans carry token counts but no cost (the destination's cost flag off). */
const withoutCost = (generationId: string, time: string) => {
  const d = JSON.parse(delivery({ generationId, startNs: at(time), user: "anna", model: "m/one", inputTokens: 100, outputTokens: 20 }))
  for (const rs of d.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) span.attributes = span.attributes.filter((a: any) => a.key !== "gen_ai.usage.total_cost")
    }
  }
  return JSON.stringify(d)
}

const runBatch = async () => {
  const res = await fetch(`${app.url}/api/v1/admin/batch/run?date=${DAY}`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  return { status: res.status, body: (await res.json()) as any }
}

const metric = async (name: string) => {
  const text = await (await fetch(`${app.url}/metrics`)).text()
  return text.split("\n").find((l) => l.startsWith(name))
}

beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-11-30" })
  or = await startOpenRouterStandIn()
  app = await startApp({ NBP_API_URL: nbp.url, OPENROUTER_API_URL: or.url, OPENROUTER_API_KEY: API_KEY })
})
afterAll(async () => {
  await app?.close()
  await or?.close()
  await nbp?.close()
})

describe("a cost Broadcast did not send", () => {
  it("is pending, refuses its day's batch, is filled from OpenRouter, then billed exactly", async () => {
    const sent = await postWebhook(app.url, withoutCost("gen-pending-1", "10:00:00"))
    expect(sent.status).toBe(200)
    expect(await sent.json()).toMatchObject({ accepted: 1, duplicates: 0 })

    const refused = await runBatch()
    expect(refused.status).toBe(503)
    expect(refused.body.results[0].status).toBe("failed")
    expect(refused.body.results[0].error).toContain("1 request of the day has no cost yet")
    expect(refused.body.results[0].error).toContain("`mai-usage costs fill`")

    const ready = (await (await fetch(`${app.url}/ready`, asAdmin)).json()) as any
    expect(ready.checks.pendingCosts).toMatchObject({ ok: true, status: "degraded", pending: 1, fill: "mai-usage costs fill" })
    expect(await metric("mai_ledger_pending_costs")).toBe("mai_ledger_pending_costs 1")

    const env = { ...bareEnv(), ...app.vars, DATA_DIR: app.dataDir }
    const early = await runCli(["costs", "fill"], env)
    expect(early.code).toBe(1)
    expect(early.stderr).toContain("not filled: gen-pending-1: OpenRouter answered GET /generation with 404")

    or.setGeneration("gen-pending-1", 0.001234567)
    const filled = await runCli(["costs", "fill"], env)
    expect(filled.stderr).toBe("")
    expect(filled.stdout).toBe("1 pending cost filled from OpenRouter (1 asked); 0 still pending\n")
    expect(filled.code).toBe(0)
    // The key was sent to OpenRouter and never printed.
    expect(or.requests().some((r) => r.path.startsWith("/api/v1/generation") && r.authorization === `Bearer ${API_KEY}`)).toBe(true)
    expect(filled.stdout + filled.stderr + early.stderr).not.toContain(API_KEY)

    const billed = await runBatch()
    expect(billed.status).toBe(200)
    expect(billed.body.results[0]).toMatchObject({ status: "succeeded", events: 1, totalUsd: "0.001234567" })
    expect(((await (await fetch(`${app.url}/ready`, asAdmin)).json()) as any).checks.pendingCosts).toMatchObject({ status: "ok", pending: 0 })
  })

  it("an explicit 0 is a real zero cost: billed at once", async () => {
    const res = await postWebhook(app.url, delivery({ generationId: "gen-free-1", startNs: at("11:00:00"), user: "jan", model: "m/free", cost: "0" }))
    expect(await res.json()).toMatchObject({ accepted: 1 })
    expect((await runBatch()).body.results[0]).toMatchObject({ status: "succeeded", events: 2, totalUsd: "0.001234567" })
  })
})

describe("nothing acknowledged is discarded", () => {
  it("X-Test-Connection: true on a delivery that carries usage is billed; without usage it is a test", async () => {
    const usage = await postWebhook(app.url, delivery({ generationId: "gen-header-1", startNs: at("12:00:00"), cost: "0.5" }), { "x-test-connection": "TRUE" })
    expect(await usage.json()).toMatchObject({ accepted: 1, ignored: 0 })
    const test = await postWebhook(app.url, "{}", { "x-test-connection": "true" })
    expect(await test.json()).toMatchObject({ accepted: 0, ignored: 1 })
  })

  it("a redelivery whose cost differs keeps the stored one, is counted, and is listed with both versions", async () => {
    const first = delivery({ generationId: "gen-conflict-1", startNs: at("13:00:00"), user: "ola", model: "m/one", cost: "1" })
    expect(await (await postWebhook(app.url, first)).json()).toMatchObject({ accepted: 1 })
    const racing = await Promise.all([2, 3, 4].map((usd) =>
      postWebhook(app.url, delivery({ generationId: "gen-conflict-1", startNs: at("13:00:00"), user: "ola", model: "m/one", cost: String(usd) }))
    ))
    for (const r of racing) expect(await r.json()).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(await metric('mai_webhook_events_total{outcome="conflict",reason=""}')).toBe('mai_webhook_events_total{outcome="conflict",reason=""} 3')

    const listed = await runCli(["conflicts", "list", "--json"], { ...bareEnv(), ...app.vars, DATA_DIR: app.dataDir })
    expect(listed.code).toBe(0)
    const rows = listed.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    expect(rows.map((r) => r.received.costNusd).sort()).toEqual(["2000000000", "3000000000", "4000000000"])
    for (const r of rows) expect(r).toMatchObject({ generationId: "gen-conflict-1", stored: { costNusd: "1000000000", user: "ola" } })
  })
})
