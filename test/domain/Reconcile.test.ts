import { describe, expect, it } from "vitest"
import { compareModel, completedWindow, dayStatus, reconcileDay, withinTolerance } from "../../src/domain/Reconcile.js"
import { lastFiring } from "../../src/openrouter/OpenRouterLive.js"

const usd = (x: string) => BigInt(Math.round(Number(x) * 1e9))

describe("tolerance: 0.5 % of OpenRouter's cost or 0.01 USD, whichever is larger", () => {
  it("0.01 USD absolute on small amounts", () => {
    expect(withinTolerance(usd("1"), usd("0.99"))).toBe(true)
    expect(withinTolerance(usd("1"), usd("0.989999999"))).toBe(false)
  })
  it("0.5 % on large amounts", () => {
    expect(withinTolerance(usd("100"), usd("99.5"))).toBe(true)
    expect(withinTolerance(usd("100"), usd("99.49"))).toBe(false)
    expect(withinTolerance(usd("100"), usd("100.5"))).toBe(true)
    expect(withinTolerance(usd("100"), usd("100.51"))).toBe(false)
  })
})

describe("per model", () => {
  it("equal requests within tolerance: ok, nothing missing", () => {
    expect(compareModel("m", { requests: 3, costNusd: usd("0.05") }, { requests: 3, costNusd: usd("0.0500001") }))
      .toMatchObject({ status: "ok", missingRequests: 0, missingNusd: 0n })
  })
  it("OpenRouter counts more: missing with the counts and USD", () => {
    expect(compareModel("m", { requests: 3, costNusd: usd("0.05") }, { requests: 2, costNusd: usd("0.03") }))
      .toMatchObject({ status: "missing", missingRequests: 1, missingNusd: usd("0.02") })
  })
  it("equal counts but OpenRouter's cost beyond the tolerance: missing USD", () => {
    expect(compareModel("m", { requests: 3, costNusd: usd("0.5") }, { requests: 3, costNusd: usd("0.3") }))
      .toMatchObject({ status: "missing", missingRequests: 0, missingNusd: usd("0.2") })
  })
  it("the ledger has more: extra, never ok", () => {
    expect(compareModel("m", { requests: 1, costNusd: usd("0.1") }, { requests: 2, costNusd: usd("0.1") }).status).toBe("extra")
    expect(compareModel("m", { requests: 0, costNusd: 0n }, { requests: 1, costNusd: 1n }).status).toBe("extra")
  })
})

describe("a day", () => {
  it("sums OpenRouter's endpoints per model and maps permaslugs", () => {
    const r = reconcileDay(
      [
        { model: "openai/gpt-4o", permaslug: "openai/gpt-4o-2024-08-06", requests: 2, costNusd: usd("0.02") },
        { model: "openai/gpt-4o", permaslug: "openai/gpt-4o-2024-08-06", requests: 1, costNusd: usd("0.01") },
        { model: "google/gemini-2.5-pro", requests: 1, costNusd: usd("0.5") }
      ],
      [
        { model: "openai/gpt-4o-2024-08-06", requests: 2, costNusd: usd("0.02") },
        { model: "openai/gpt-4o", requests: 1, costNusd: usd("0.01") },
        { model: "google/gemini-2.5-pro", requests: 1, costNusd: usd("0.5") }
      ]
    )
    expect(r.map((m) => [m.model, m.status, m.openRouter.requests, m.ledger.requests])).toEqual([
      ["google/gemini-2.5-pro", "ok", 1, 1],
      ["openai/gpt-4o", "ok", 3, 3]
    ])
    expect(dayStatus(r)).toBe("ok")
  })
  it("missing wins over extra; a model only OpenRouter knows is missing entirely", () => {
    const r = reconcileDay([{ model: "a", requests: 2, costNusd: usd("0.2") }], [{ model: "b", requests: 1, costNusd: usd("0.1") }])
    expect(r.map((m) => [m.model, m.status, m.missingRequests])).toEqual([["a", "missing", 2], ["b", "extra", 0]])
    expect(dayStatus(r)).toBe("missing")
  })
})

describe("the window and the schedule", () => {
  it("30 completed UTC days, oldest first, never today", () => {
    const w = completedWindow(Date.parse("2026-03-01T00:30:00Z"))
    expect(w).toHaveLength(30)
    expect(w[0]).toBe("2026-01-30")
    expect(w[29]).toBe("2026-02-28")
  })
  it("the last 01:00 UTC", () => {
    expect(new Date(lastFiring(Date.parse("2026-03-01T00:59:59Z"))).toISOString()).toBe("2026-02-28T01:00:00.000Z")
    expect(new Date(lastFiring(Date.parse("2026-03-01T01:00:00Z"))).toISOString()).toBe("2026-03-01T01:00:00.000Z")
  })
})

describe("pending costs in a reconciliation", () => {
  it("are known requests with an unknown cost: counted, never made missing or extra by their cost", () => {
    const openRouter = { requests: 3, costNusd: 3_000_000_000n }
    // Two of three known at 2 USD, one pending: OpenRouter's 3 USD is not "missing" 1 USD.
    expect(compareModel("m", openRouter, { requests: 3, costNusd: 2_000_000_000n, pendingRequests: 1 })).toMatchObject({
      status: "ok",
      missingRequests: 0,
      missingNusd: 0n
    })
    // Without the pending one, the same figures are missing a request and its dollar.
    expect(compareModel("m", openRouter, { requests: 2, costNusd: 2_000_000_000n })).toMatchObject({ status: "missing", missingRequests: 1 })
    // Known costs beyond OpenRouter's are still extra, pending or not.
    expect(compareModel("m", openRouter, { requests: 3, costNusd: 5_000_000_000n, pendingRequests: 1 }).status).toBe("extra")
  })

  it("reconcileDay adds pending rows to their model", () => {
    const models = reconcileDay(
      [{ model: "m", requests: 2, costNusd: 2_000_000_000n }],
      [{ model: "m", requests: 1, costNusd: 1_500_000_000n }, { model: "m", requests: 1, costNusd: 0n, pendingRequests: 1 }]
    )
    expect(models).toMatchObject([{ model: "m", status: "ok", ledger: { requests: 2, pendingRequests: 1 } }])
  })
})
