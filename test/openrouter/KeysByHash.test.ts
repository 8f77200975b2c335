/**
 * The client's keys, by hash: several OPENROUTER_API_KEY_HASH values are reconciled together, a
 * third key's events are reported apart (never `extra`), and a key renamed mid-month keeps its
 * earlier name's events.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Reconciler } from "../../src/openrouter/Reconciler.js"
import { startApp, type TestApp } from "../support/app.js"
import { deliverGeneration, runIn, waitForStartupRound } from "../support/openRouterApp.js"
import { API_KEY, API_KEY_HASH, API_KEY_NAME, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { bareEnv, runCli } from "../support/process.js"

const SECOND_HASH = "b".repeat(64)
const OTHER_HASH = "c".repeat(64)
const DAY_MS = 86_400_000
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const today = Date.parse(utc(Date.now()) + "T00:00:00Z")
const D1 = utc(today - 4 * DAY_MS)
const D2 = utc(today - 3 * DAY_MS)

let or: OpenRouterStandIn
let app: TestApp

const at = (day: string, minute: number) => new Date(Date.parse(`${day}T12:00:00Z`) + minute * 60_000)
const reconcile = (day: string) => runIn(app, Effect.flatMap(Reconciler, (r) => r.reconcile(day)))

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  or.setKeys([
    { hash: API_KEY_HASH, name: API_KEY_NAME },
    { hash: SECOND_HASH, name: "acme-batch" },
    { hash: OTHER_HASH, name: "someone-else" }
  ])
  app = await startApp({
    OPENROUTER_API_URL: or.url,
    OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
    OPENROUTER_API_KEY: API_KEY,
    OPENROUTER_API_KEY_HASH: `${API_KEY_HASH},${SECOND_HASH}`
  })
  await waitForStartupRound(app)
})
afterAll(async () => {
  await app?.close()
  await or?.close()
})

describe("the client's keys, by hash", () => {
  it("two keys are reconciled together; a third key's events are reported apart, never extra", async () => {
    await deliverGeneration(app.url, { id: "gen-k1", time: at(D1, 1), model: "m/one", cost: 0.25, apiKeyName: API_KEY_NAME })
    await deliverGeneration(app.url, { id: "gen-k2", time: at(D1, 2), model: "m/one", cost: 0.5, apiKeyName: "acme-batch" })
    await deliverGeneration(app.url, { id: "gen-k3", time: at(D1, 3), model: "m/one", cost: 5, apiKeyName: "someone-else" })
    or.setActivity(D1, [{ model: "m/one", requests: 1, usage: 0.25 }], API_KEY_HASH)
    or.setActivity(D1, [{ model: "m/one", requests: 1, usage: 0.5 }], SECOND_HASH)
    or.setActivity(D1, [{ model: "m/one", requests: 1, usage: 5 }], OTHER_HASH)

    const r = await reconcile(D1)
    expect(r.status).toBe("ok")
    expect(r.models).toMatchObject([{ model: "m/one", status: "ok", openRouter: { requests: 2 }, ledger: { requests: 2 } }])
    expect(r.otherKeys).toEqual({ requests: 1, costNusd: 5_000_000_000n })
    // Only the client's two keys were asked about.
    const asked = or.requests().filter((q) => q.path.startsWith(`/api/v1/activity?date=${D1}`)).map((q) => q.path)
    expect(asked.some((p) => p.includes(API_KEY_HASH)) && asked.some((p) => p.includes(SECOND_HASH))).toBe(true)
    expect(asked.some((p) => p.includes(OTHER_HASH))).toBe(false)

    const cli = await runCli(["reconcile", "--date", D1], { ...bareEnv(), ...app.vars, DATA_DIR: app.dataDir })
    expect(cli.code).toBe(0)
    expect(cli.stdout).toContain("other keys (not compared): 1 request(s), USD 5.00")
    const metrics = await (await fetch(app.url + "/metrics")).text()
    expect(metrics).toContain(`mai_reconciliation_other_keys_requests{date="${D1}"} 1`)
  })

  it("a key renamed mid-month still reconciles ok: its earlier name's events stay its own", async () => {
    // Before the rename (D1 was reconciled above, so the old name is known), then renamed.
    or.setKeys([
      { hash: API_KEY_HASH, name: API_KEY_NAME },
      { hash: SECOND_HASH, name: "acme-batch-2026" },
      { hash: OTHER_HASH, name: "someone-else" }
    ])
    await deliverGeneration(app.url, { id: "gen-r1", time: at(D2, 1), model: "m/one", cost: 0.5, apiKeyName: "acme-batch" })
    await deliverGeneration(app.url, { id: "gen-r2", time: at(D2, 2), model: "m/one", cost: 0.75, apiKeyName: "acme-batch-2026" })
    or.setActivity(D2, [], API_KEY_HASH)
    or.setActivity(D2, [{ model: "m/one", requests: 2, usage: 1.25 }], SECOND_HASH)
    const r = await reconcile(D2)
    expect(r.status).toBe("ok")
    expect(r.models).toMatchObject([{ model: "m/one", status: "ok", ledger: { requests: 2, costNusd: 1_250_000_000n } }])
    expect(r.otherKeys).toEqual({ requests: 0, costNusd: 0n })
  })
})
