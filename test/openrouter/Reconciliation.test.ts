/**
 * Activity reconciliation against the OpenRouter stand-in, in the real app: deliveries over the
 * real webhook, OpenRouter "knowing" more than was delivered, the results in the summary DB, in
 * /metrics and on /ready; OpenRouter failing or hanging never blocks ingestion or the batch and
 * never writes a result.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OpenRouterRepo } from "../../src/openrouter/OpenRouterRepo.js"
import { Reconciler } from "../../src/openrouter/Reconciler.js"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { API_KEY, API_KEY_HASH, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { deliverGeneration, waitForStartupRound } from "../support/openRouterApp.js"

let or: OpenRouterStandIn
let app: TestApp

const DAY_MS = 86_400_000
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const todayMs = Date.parse(utc(Date.now()) + "T00:00:00Z")
const dayAgo = (n: number) => utc(todayMs - n * DAY_MS)

const MODELS = ["anthropic/claude-sonnet-4", "google/gemini-2.5-pro", "openai/gpt-4o"] as const
/** USD of request k of model m: distinct, like real requests */
const cost = (m: number, k: number) => Number((0.0125 + m * 0.1 + k * 0.0031).toFixed(6))
const REQUESTS = 3

const id = (day: string, m: number, k: number) => `gen-rec-${day}-${m}-${k}`

const deliver = (day: string, m: number, k: number) =>
  deliverGeneration(app.url, {
    id: id(day, m, k),
    time: new Date(Date.parse(`${day}T12:00:00Z`) + (m * 10 + k) * 60_000),
    model: MODELS[m],
    cost: cost(m, k)
  })

/** What OpenRouter knows for the day: every request of every model. */
const knowDay = (day: string) =>
  or.setActivity(day, MODELS.map((model, m) => ({
    model,
    requests: REQUESTS,
    usage: Array.from({ length: REQUESTS }, (_, k) => cost(m, k)).reduce((a, b) => a + b, 0)
  })))

const run = <A>(e: Effect.Effect<A, any, any>) => app.runtime.runPromise(e as Effect.Effect<A, any, never>)
const reconcile = (day: string) => run(Effect.flatMap(Reconciler, (r) => r.reconcile(day)))
const stored = (day: string) => run(Effect.flatMap(OpenRouterRepo, (r) => r.days(day, day))).then((d) => d[0])
const metrics = async () => (await fetch(app.url + "/metrics")).text()

/** The three test days: on day i, request 0 of model i is withheld. */
const days = [dayAgo(3), dayAgo(4), dayAgo(5)]

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  app = await startApp({
    OPENROUTER_API_URL: or.url,
    OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
    OPENROUTER_API_KEY: API_KEY
  })
  // Let the start-up round (30 empty days) finish before the test writes its days.
  await waitForStartupRound(app)
  for (const [i, day] of days.entries()) {
    knowDay(day)
    for (let m = 0; m < MODELS.length; m++) {
      for (let k = 0; k < REQUESTS; k++) if (!(m === i && k === 0)) await deliver(day, m, k)
    }
  }
})

afterAll(async () => {
  await app?.close()
  await or?.close()
})

describe("a withheld delivery", () => {
  it("is found per model: exactly that model missing 1 request and its USD, the others ok", async () => {
    for (const [i, day] of days.entries()) {
      const r = await reconcile(day)
      expect(r.status).toBe("missing")
      expect(r.models.map((m) => [m.model, m.status])).toEqual(MODELS.map((model, m) => [model, m === i ? "missing" : "ok"]))
      const missing = r.models.find((m) => m.status === "missing")!
      expect(missing.missingRequests).toBe(1)
      // The withheld request's USD, to the nano-dollar (OpenRouter's float sum rounds within that).
      expect(Number(missing.missingNusd) / 1e9).toBeCloseTo(cost(i, 0), 6)
      const row = await stored(day)
      expect(row.status).toBe("missing")
      expect(row.models.filter((m) => m.status === "missing").map((m) => [m.model, m.missingRequests])).toEqual([[MODELS[i], 1]])
    }
    // The key hash was looked up with the management key and used as the activity filter.
    expect(or.requests().some((q) => q.path.includes(`api_key_hash=${API_KEY_HASH}`))).toBe(true)
  })

  it("shows in /metrics and on /ready", async () => {
    const text = await metrics()
    for (const [i, day] of days.entries()) {
      expect(text).toContain(`mai_reconciliation_missing_requests{date="${day}",model="${MODELS[i]}"} 1`)
      expect(text).toContain(`mai_reconciliation_missing_usd{date="${day}",model="${MODELS[i]}"} ${cost(i, 0)}`)
      const other = MODELS[(i + 1) % MODELS.length]
      expect(text).toContain(`mai_reconciliation_missing_requests{date="${day}",model="${other}"} 0`)
    }
    const ready = (await (await fetch(app.url + "/ready", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as any
    expect(JSON.stringify(ready.checks.reconciliation)).toContain("missing")
    expect([...ready.checks.reconciliation.missingDays].sort()).toEqual([...days].sort())
    // serve ran the destination check at start-up (no destination set up here): shown, never failing /ready.
    expect(ready.checks.openrouterDestination).toMatchObject({ ok: true, configured: true, lossFree: false })
    expect(ready.checks.openrouterDestination.problems.join("\n")).toContain("no Broadcast destination points at this client")
  })

  it("turns ok once the missing delivery arrives, and the metric goes back to 0", async () => {
    const [day] = days
    await deliver(day, 0, 0)
    const r = await reconcile(day)
    expect(r.status).toBe("ok")
    expect(r.models.every((m) => m.status === "ok")).toBe(true)
    expect((await stored(day)).status).toBe("ok")
    expect(await metrics()).toContain(`mai_reconciliation_missing_requests{date="${day}",model="${MODELS[0]}"} 0`)
  })

  it("more in the ledger than OpenRouter counts is extra, never ok", async () => {
    const day = dayAgo(6)
    or.setActivity(day, [{ model: MODELS[2], requests: 1, usage: cost(2, 0) }])
    await deliver(day, 2, 0)
    await deliver(day, 2, 1)
    const r = await reconcile(day)
    expect(r.status).toBe("extra")
    expect(r.models).toHaveLength(1)
    expect(r.models[0]).toMatchObject({ model: MODELS[2], status: "extra", missingRequests: 0, missingNusd: 0n })
  })
})

describe("OpenRouter failing", () => {
  it("answers 500: the day is unavailable and the last successful result is kept untouched", async () => {
    const day = days[1]
    const before = await stored(day)
    or.setFailure(500)
    try {
      const r = await reconcile(day)
      expect(r.status).toBe("unavailable")
      expect(r.error).toMatch(/OpenRouter answered GET \/activity with 500/)
      expect(r.error).not.toContain(MANAGEMENT_KEY)
    } finally {
      or.setFailure(null)
    }
    const after = await stored(day)
    expect(after.status).toBe("unavailable")
    expect(after.models).toEqual(before.models)
    expect(after.lastSuccessAt).toBe(before.lastSuccessAt)
  })

  it("unreachable: a never-checked day gets no model rows at all", async () => {
    const day = dayAgo(7)
    knowDay(day)
    or.setFailure("down")
    try {
      const r = await reconcile(day)
      expect(r.status).toBe("unavailable")
      expect(r.error).toMatch(/unreachable/i)
    } finally {
      or.setFailure(null)
    }
    const row = await stored(day)
    expect(row.status).toBe("unavailable")
    expect(row.models).toEqual([])
  })

  it("hanging: ingestion and the batch go on while a reconciliation waits", async () => {
    or.setDelay(8_000)
    const day = dayAgo(8)
    const pending = reconcile(day)
    try {
      await new Promise((r) => setTimeout(r, 200))
      const t0 = Date.now()
      await deliver(dayAgo(9), 1, 1)
      const batch = await fetch(app.url + "/api/v1/admin/batch/run?date=2026-11-01", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
      })
      expect(batch.status).toBe(200)
      expect(Date.now() - t0).toBeLessThan(5_000)
    } finally {
      or.setDelay(0)
    }
    // It answered eventually (within the timeout), so this is a real result.
    const r = await pending
    expect(["ok", "unavailable"]).toContain(r.status)
  })
})
