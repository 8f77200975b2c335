/** The OpenRouter client against the stand-in: decoding, timeouts, retries, typed errors, no key leaks. */
import { Effect, Either, Redacted } from "effect"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { make } from "../../src/openrouter/OpenRouterApi.js"
import { API_KEY, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"

let or: OpenRouterStandIn
beforeEach(async () => {
  or = await startOpenRouterStandIn()
})
afterEach(async () => {
  await or.close()
})

const client = (overrides: { managementKey?: string | null; timeout?: number } = {}) =>
  make({
    apiUrl: or.url,
    managementKey: overrides.managementKey === null ? undefined : Redacted.make(overrides.managementKey ?? MANAGEMENT_KEY),
    apiKey: Redacted.make(API_KEY),
    timeout: overrides.timeout ?? 2_000,
    retries: 2,
    backoff: 20
  })
const run = <A, E>(f: (api: Effect.Effect.Success<ReturnType<typeof client>>) => Effect.Effect<A, E>, o = {}) =>
  Effect.runPromise(Effect.either(Effect.flatMap(client(o), f)).pipe(Effect.provide(FetchHttpClient.layer)))
const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)

describe("OpenRouterApi", () => {
  it("decodes the documented activity and key shapes", async () => {
    or.setActivity(day, [{ model: "openai/gpt-4o", requests: 5, usage: 0.015 }], "h")
    or.setKeyUsage(25.5, 1.25)
    const activity = await run((api) => api.activity(day, "h"))
    expect(Either.getOrThrow(activity)).toMatchObject([{ date: day, model: "openai/gpt-4o", requests: 5, usage: 0.015 }])
    expect(Either.getOrThrow(await run((api) => api.currentKey))).toMatchObject({ usage: 25.5, usage_daily: 1.25 })
    expect(or.requests().every((r) => r.authorization?.startsWith("Bearer "))).toBe(true)
  })

  it("retries 5xx with back-off, then fails typed, without any key in the message", async () => {
    or.setFailure(502)
    const r = await run((api) => api.activity(day, "h"))
    expect(or.requests()).toHaveLength(3)
    const e = Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
    expect(e).toMatchObject({ _tag: "OpenRouterError", reason: "server", status: 502 })
    expect(e.message).not.toContain(MANAGEMENT_KEY)
    expect(JSON.stringify(e)).not.toContain(MANAGEMENT_KEY)
  })

  it("a wrong key is unauthorized and not retried", async () => {
    const r = await run((api) => api.listKeys, { managementKey: "sk-or-v1-wrong-key-123456" })
    expect(Either.isLeft(r) && r.left).toMatchObject({ reason: "unauthorized", status: 401 })
    expect(or.requests()).toHaveLength(1)
    expect(JSON.stringify(r)).not.toContain("sk-or-v1-wrong-key-123456")
  })

  it("times out each attempt", async () => {
    or.setDelay(1_000)
    const t0 = Date.now()
    const r = await run((api) => api.listKeys, { timeout: 150 })
    expect(Either.isLeft(r) && r.left.reason).toBe("timeout")
    expect(Date.now() - t0).toBeLessThan(900 * 3)
    or.setDelay(0)
  })

  it("never retries a POST (no second destination from a slow answer)", async () => {
    or.setFailure(503)
    const r = await run((api) =>
      api.createDestination({
        name: "x",
        enabled: true,
        privacy_mode: true,
        sampling_rate: 1,
        broadcast_generation_cost: true,
        filter_rules: null,
        api_key_hashes: ["h"],
        config: { url: "https://x.example/hook", method: "POST", headers: { Authorization: "Bearer s" } }
      })
    )
    expect(Either.isLeft(r)).toBe(true)
    expect(or.requests().filter((q) => q.method === "POST")).toHaveLength(1)
  })

  it("without the management key: not-configured, nothing sent", async () => {
    const r = await run((api) => api.listDestinations, { managementKey: null })
    expect(Either.isLeft(r) && r.left).toMatchObject({ reason: "not-configured" })
    expect(or.requests()).toHaveLength(0)
  })

  it("a 200 with an unexpected body is bad-response, not a result", async () => {
    const server = Http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(`{"data":{"usage":"lots"}}`))
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    try {
      const port = (server.address() as AddressInfo).port
      const r = await Effect.runPromise(
        Effect.either(Effect.flatMap(make({ apiUrl: `http://127.0.0.1:${port}/api/v1`, managementKey: undefined, apiKey: Redacted.make(API_KEY) }), (api) => api.currentKey))
          .pipe(Effect.provide(FetchHttpClient.layer))
      )
      expect(Either.isLeft(r) && r.left).toMatchObject({ reason: "bad-response", status: 200 })
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
