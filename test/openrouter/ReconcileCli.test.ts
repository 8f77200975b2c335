/** `mai-usage reconcile` as an operator runs it: exit codes and lines, over a ledger the real webhook filled. */
import * as Fs from "node:fs"
import { afterAll, beforeAll, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, tempDir, WEBHOOK_SECRET } from "../support/app.js"
import { API_KEY_HASH, API_KEY_NAME, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { generationDelivery } from "../support/otlp.js"
import { standInCliEnv } from "../support/openRouterApp.js"
import { runCli } from "../support/process.js"

let or: OpenRouterStandIn
const dataDir = tempDir("mai-usage-reconcile-cli-")
const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)
const okDay = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)

const env = (o: Record<string, string> = {}) =>
  standInCliEnv(or, { DATA_DIR: dataDir, OPENROUTER_WEBHOOK_SECRET: WEBHOOK_SECRET, ADMIN_TOKEN, OPENROUTER_API_KEY_HASH: API_KEY_HASH, ...o })

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  const app = await startApp({ DATA_DIR: dataDir })
  for (const [id, d, c] of [["gen-cli-1", day, 0.2], ["gen-cli-2", okDay, 0.1]] as const) {
    const res = await postWebhook(app.url, generationDelivery({
      id, time: new Date(`${d}T08:00:00Z`), user: "u", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1, cost: c, apiKeyName: API_KEY_NAME
    }))
    expect(res.status).toBe(200)
  }
  await app.close()
  or.setActivity(day, [{ model: "openai/gpt-4o", requests: 2, usage: 0.5 }])
  or.setActivity(okDay, [{ model: "openai/gpt-4o", requests: 1, usage: 0.1 }])
})
afterAll(async () => {
  await or?.close()
  Fs.rmSync(dataDir, { recursive: true, force: true })
})

it("a missing day: exit 1, the model, requests and USD missing; an ok day alone: exit 0", async () => {
  const missing = await runCli(["reconcile", "--date", day], env())
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain(`${day}: missing: 1 of 1 model(s) differ`)
  expect(missing.stderr).toContain("openai/gpt-4o: missing 1 request(s), USD 0.30")
  const ok = await runCli(["reconcile", "--from", okDay, "--to", okDay], env())
  expect(ok.code).toBe(0)
  expect(ok.stdout).toContain(`${okDay}: ok: 1 model(s), 1 request(s)`)
  for (const r of [missing, ok]) expect(r.stdout + r.stderr).not.toContain(MANAGEMENT_KEY)
})

it("bad arguments and no management key: exit 2 with one line, OpenRouter not asked", async () => {
  const before = or.requests().length
  const today = new Date().toISOString().slice(0, 10)
  const notCompleted = await runCli(["reconcile", "--date", today], env())
  expect(notCompleted.code).toBe(2)
  expect(notCompleted.stderr).toMatch(/is not a completed UTC day of OpenRouter's activity window/)
  const both = await runCli(["reconcile", "--date", day, "--from", day, "--to", day], env())
  expect(both.code).toBe(2)
  const noKey = await runCli(["reconcile", "--date", day], env({ OPENROUTER_MANAGEMENT_KEY: "" }))
  expect(noKey.code).toBe(2)
  expect(noKey.stderr).toContain("OPENROUTER_MANAGEMENT_KEY is not set")
  expect(or.requests().length).toBe(before)
})
