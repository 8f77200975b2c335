/**
 * `mai-usage openrouter connect|check` as an operator runs them (the real CLI, a child process)
 * against the OpenRouter stand-in, which holds the destinations in memory.
 */
import * as Fs from "node:fs"
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest"
import { tempDir } from "../support/app.js"
import { API_KEY, API_KEY_HASH, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { standInCliEnv } from "../support/openRouterApp.js"
import { runCli } from "../support/process.js"

const SECRET = "dest-test-webhook-secret-0123456789"
const URL_ = "https://usage.example.pl/api/v1/webhooks/openrouter"
let or: OpenRouterStandIn
const dirs: Array<string> = []

const env = (overrides: Record<string, string> = {}) => {
  const dir = tempDir("mai-usage-dest-")
  dirs.push(dir)
  return standInCliEnv(or, {
    DATA_DIR: dir,
    CLIENT_ORG_ID: "acme",
    OPENROUTER_WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: "dest-test-admin-token-0123456789",
    OPENROUTER_API_KEY: API_KEY,
    ...overrides
  })
}

beforeEach(async () => {
  or = await startOpenRouterStandIn()
})
afterEach(async () => {
  await or.close()
})
afterAll(() => {
  for (const d of dirs) Fs.rmSync(d, { recursive: true, force: true })
})

const noSecrets = (r: { stdout: string; stderr: string }) => {
  for (const s of [SECRET, MANAGEMENT_KEY, API_KEY]) {
    expect(r.stdout).not.toContain(s)
    expect(r.stderr).not.toContain(s)
  }
}

describe("openrouter connect", () => {
  it("twice creates one destination: cost metadata on, no filter rules, privacy on, sampling 1, the key hash only, the bearer header, enabled", async () => {
    const e = env()
    const first = await runCli(["openrouter", "connect", "--url", URL_], e)
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/^created destination "mai-usage acme"/)
    const second = await runCli(["openrouter", "connect", "--url", URL_], e)
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/^updated destination "mai-usage acme"/)
    noSecrets(first)
    noSecrets(second)

    const all = or.destinations()
    expect(all).toHaveLength(1)
    expect(all[0]).toMatchObject({
      type: "webhook",
      name: "mai-usage acme",
      enabled: true,
      privacy_mode: true,
      sampling_rate: 1,
      api_key_hashes: [API_KEY_HASH],
      broadcast_generation_cost: true,
      filter_rules: null,
      config: { url: URL_, method: "POST", headers: { Authorization: `Bearer ${SECRET}` } }
    })
    expect(or.requests().filter((r) => r.method === "POST")).toHaveLength(1)
    const check = await runCli(["openrouter", "check", "--url", URL_], e)
    expect(check.code).toBe(0)
  })

  it("sets every one of the client's keys (several OPENROUTER_API_KEY_HASH), and works in the workspace named", async () => {
    const second = "a".repeat(64)
    const e = env({ OPENROUTER_API_KEY_HASH: `${API_KEY_HASH},${second}`, OPENROUTER_WORKSPACE_ID: "ws-acme" })
    const r = await runCli(["openrouter", "connect", "--url", URL_], e)
    expect(r.code).toBe(0)
    expect(or.destinations()).toMatchObject([{ workspace_id: "ws-acme", api_key_hashes: [API_KEY_HASH, second] }])
    expect(or.requests().some((q) => q.path.includes("workspace_id=ws-acme"))).toBe(true)
  })

  it("refuses a sixth webhook destination in a workspace, naming the limit; another workspace still has room", async () => {
    for (let i = 0; i < 5; i++) or.addDestination({ name: `other-${i}`, config: { url: `https://other${i}.example/hook` }, workspace_id: "ws-full" })
    const full = await runCli(["openrouter", "connect", "--url", URL_], env({ OPENROUTER_WORKSPACE_ID: "ws-full" }))
    expect(full.code).not.toBe(0)
    expect(full.stderr).toContain("all 5 webhook destinations of the workspace ws-full are in use (OpenRouter allows 5 per type and workspace)")
    expect(or.destinations().filter((d) => d.workspace_id === "ws-full")).toHaveLength(5)
    const roomy = await runCli(["openrouter", "connect", "--url", URL_], env({ OPENROUTER_WORKSPACE_ID: "ws-empty" }))
    expect(roomy.code).toBe(0)
    expect(or.destinations().filter((d) => d.workspace_id === "ws-empty")).toHaveLength(1)
  })

  it("repairs a destination someone changed, in place", async () => {
    const e = env()
    expect((await runCli(["openrouter", "connect", "--url", URL_], e)).code).toBe(0)
    const d = or.destinations()[0]
    Object.assign(d, { enabled: false, sampling_rate: 0.25, privacy_mode: false, api_key_hashes: ["f".repeat(64)] })
    d.config = { ...d.config, headers: { Authorization: "Bearer old-secret-value-xyz" } }
    expect((await runCli(["openrouter", "connect", "--url", URL_], e)).code).toBe(0)
    expect(or.destinations()).toHaveLength(1)
    expect(or.destinations()[0]).toMatchObject({
      id: d.id,
      enabled: true,
      sampling_rate: 1,
      privacy_mode: true,
      api_key_hashes: [API_KEY_HASH],
      config: { headers: { Authorization: `Bearer ${SECRET}` } }
    })
    const check = await runCli(["openrouter", "check"], e)
    expect(check.code).toBe(0)
    expect(check.stdout).toContain("ok: nothing loses billing data")
  })

  it("needs the management key and a URL (exit 2, nothing sent)", async () => {
    const noKey = await runCli(["openrouter", "connect", "--url", URL_], env({ OPENROUTER_MANAGEMENT_KEY: "" }))
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain("OPENROUTER_MANAGEMENT_KEY is not set")
    const badUrl = await runCli(["openrouter", "connect", "--url", "not a url"], env())
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toContain("--url: malformed URL")
    expect(or.requests()).toHaveLength(0)
  })
})

describe("openrouter check", () => {
  it("flags a disabled destination, sampling 0.5, a key filter without the client's key and a wrong secret, each by name", async () => {
    const e = env()
    const good = { url: URL_, method: "POST", headers: { Authorization: `Bearer ${SECRET}` } }
    const costOn = { broadcast_generation_cost: true }
    or.addDestination({ name: "off", enabled: false, privacy_mode: true, config: good, ...costOn })
    or.addDestination({ name: "half", sampling_rate: 0.5, privacy_mode: true, config: good, ...costOn })
    or.addDestination({ name: "other-key", api_key_hashes: ["0".repeat(64)], privacy_mode: true, config: good, ...costOn })
    or.addDestination({
      name: "old-secret",
      privacy_mode: true,
      ...costOn,
      config: { ...good, headers: { Authorization: "Bearer some-previous-secret-9999" } }
    })
    // Not this client's: another URL, another name; never flagged.
    or.addDestination({ name: "someone else", enabled: false, config: { url: "https://other.example/hook" } })

    const r = await runCli(["openrouter", "check", "--url", URL_], e)
    expect(r.code).toBe(1)
    noSecrets(r)
    const out = r.stderr
    expect(out).toMatch(/error: destination "off": disabled/)
    expect(out).toMatch(/error: destination "half": sampling rate 0\.5/)
    expect(out).toMatch(/error: destination "other-key": its API key filter leaves out this client's key/)
    expect(out).toMatch(/error: destination "old-secret": its Authorization header is not/)
    expect(out).not.toContain("someone else")
    // Each defect is flagged on its own destination only.
    expect(out.match(/destination "off": [a-z]/g)).toHaveLength(1)
    expect(out).not.toMatch(/"half": disabled|"off": sampling|"half": its Authorization/)
    expect(out).toContain("webhook destinations in use: 5 of 5")
    expect(out).toContain("4 destinations point at this client")
    expect(out).toContain("NOT OK")
  })

  it("names cost metadata off, filter rules and sampling 0.5 as errors, and exits non-zero", async () => {
    const good = { url: URL_, method: "POST", headers: { Authorization: `Bearer ${SECRET}` } }
    const d = or.addDestination({
      name: "mai-usage acme",
      privacy_mode: true,
      sampling_rate: 0.5,
      filter_rules: { groups: [{ rules: [{ field: "model", operator: "equals", value: "openai/gpt-4o" }] }] },
      config: good
    })
    const r = await runCli(["openrouter", "check", "--url", URL_], env())
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error: destination "mai-usage acme": cost metadata is off \(broadcast_generation_cost\)/)
    expect(r.stderr).toMatch(/error: destination "mai-usage acme": it has filter rules/)
    expect(r.stderr).toMatch(/error: destination "mai-usage acme": sampling rate 0\.5/)
    // connect repairs all three in place.
    expect((await runCli(["openrouter", "connect", "--url", URL_], env())).code).toBe(0)
    expect(or.destinations().find((x) => x.id === d.id)).toMatchObject({ broadcast_generation_cost: true, filter_rules: null, sampling_rate: 1 })
  })

  it("says so when no destination points at this client", async () => {
    const r = await runCli(["openrouter", "check", "--url", URL_], env())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("no Broadcast destination points at this client")
    expect(r.stderr).toContain("mai-usage openrouter connect --url")
  })

  it("OpenRouter down: exit 1 with a clear line, no secret in it", async () => {
    or.setFailure("down")
    const r = await runCli(["openrouter", "check", "--url", URL_], env({ OPENROUTER_API_KEY_HASH: API_KEY_HASH }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/openrouter check: OpenRouter unreachable/)
    noSecrets(r)
  })
})
