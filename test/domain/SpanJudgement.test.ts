import { Either } from "effect"
import * as Fs from "node:fs"
import { describe, expect, it } from "vitest"
import { decodeDelivery, type DecodeOptions } from "../../src/domain/Otlp.js"
import { MAX_FIELD_BYTES } from "../../src/domain/RejectedSpan.js"

const options: DecodeOptions = { clientOrgId: "acme", apiKeyNames: undefined }
const load = (name: string) =>
  JSON.parse(Fs.readFileSync(new URL(`../fixtures/openrouter/${name}`, import.meta.url), "utf8"))
const decode = (body: unknown) => Either.getOrThrow(decodeDelivery(body, options))
const rootOf = (d: any) => d.resourceSpans[0].scopeSpans[0].spans[0]
const setAttr = (span: any, key: string, value: unknown) => {
  const a = span.attributes.find((x: any) => x.key === key)
  if (a === undefined) span.attributes.push({ key, value })
  else a.value = value
}
const privacy = () => load("delivery-privacy-mode.json")

describe("what is a connection test", () => {
  it("a root renamed openrouter-connection-test that carries usage is billed", () => {
    const d = privacy()
    rootOf(d).name = "openrouter-connection-test"
    setAttr(rootOf(d), "gen_ai.usage.total_cost", { doubleValue: 12.5 })
    const r = decode(d)
    expect(r.ignored).toEqual([])
    expect(r.events).toHaveLength(1)
    expect(r.events[0].costNusd).toBe(12_500_000_000n)
  })

  it("a span of that name with usage but without span.type is still billed", () => {
    const d = load("connection-test.json")
    rootOf(d).attributes = [
      { key: "gen_ai.response.id", value: { stringValue: "gen-evasion-1" } },
      { key: "gen_ai.usage.total_cost", value: { doubleValue: 3 } },
      { key: "gen_ai.usage.input_tokens", value: { intValue: "100" } }
    ]
    const r = decode(d)
    expect(r.events.map((e) => [e.generationId, e.costNusd, e.inputTokens])).toEqual([["gen-evasion-1", 3_000_000_000n, 100]])
  })

  it("token counts alone are usage, whatever the name: stored with the cost pending, never as 0", () => {
    const d = load("connection-test.json")
    rootOf(d).attributes = [
      { key: "gen_ai.response.id", value: { stringValue: "gen-tokens-only" } },
      { key: "gen_ai.usage.output_tokens", value: { intValue: 7 } }
    ]
    expect(decode(d).events).toMatchObject([{ generationId: "gen-tokens-only", outputTokens: 7, costNusd: null }])
  })

  it("an explicit cost of 0 is a real 0 (a :free model)", () => {
    const d = load("connection-test.json")
    rootOf(d).attributes = [
      { key: "gen_ai.response.id", value: { stringValue: "gen-free" } },
      { key: "gen_ai.usage.output_tokens", value: { intValue: 7 } },
      { key: "gen_ai.usage.total_cost", value: { doubleValue: 0 } }
    ]
    expect(decode(d).events).toMatchObject([{ generationId: "gen-free", costNusd: 0n }])
  })

  it("an errored span with token counts is usage too (its cost pending); without usage it is not billed", () => {
    const d = load("connection-test.json")
    const root = rootOf(d)
    root.name = "chat"
    root.status = { code: 2 }
    root.attributes = [
      { key: "span.type", value: { stringValue: "generation" } },
      { key: "gen_ai.response.id", value: { stringValue: "gen-errored" } },
      { key: "gen_ai.usage.input_tokens", value: { intValue: 12 } }
    ]
    expect(decode(d).events).toMatchObject([{ generationId: "gen-errored", inputTokens: 12, costNusd: null }])
    root.attributes = root.attributes.filter((a: any) => a.key !== "gen_ai.usage.input_tokens")
    expect(decode(d)).toEqual({ events: [], ignored: ["error-no-cost"], rejected: [] })
  })

  it("a renamed span without usage is a test", () => {
    const d = load("connection-test.json")
    expect(decode(d)).toEqual({ events: [], ignored: ["connection-test"], rejected: [] })
  })

  it.each([
    ["{}", {}],
    ["no resourceSpans elements", { resourceSpans: [] }],
    ["resourceSpans without spans", { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [] }] }] }]
  ])("%s is a test", (_, body) => {
    expect(decode(body)).toEqual({ events: [], ignored: ["connection-test"], rejected: [] })
  })
})

describe("each generation is judged alone against the bounds", () => {
  const cases: Array<[string, string, unknown, string, RegExp]> = [
    ["a negative token count", "gen_ai.usage.input_tokens", { intValue: -1 }, "token-count", /input_tokens is negative/],
    ["a negative token count as text", "gen_ai.usage.output_tokens", { intValue: "-5" }, "token-count", /negative/],
    ["a fractional token count", "gen_ai.usage.output_tokens", { doubleValue: 1.5 }, "token-count", /fractional/],
    ["a fractional token count as text", "gen_ai.usage.total_tokens", { stringValue: "2.25" }, "token-count", /fractional/],
    ["a token count above 10^12", "gen_ai.usage.input_tokens", { intValue: "1000000000001" }, "token-count", /10\^12/],
    ["a token count that is not a number", "gen_ai.usage.input_tokens.cached", { stringValue: "lots" }, "token-count", /not a number/],
    ["a negative cost", "gen_ai.usage.total_cost", { doubleValue: -0.01 }, "cost", /negative/],
    ["a cost above 10,000 USD", "gen_ai.usage.total_cost", { doubleValue: 1e21 }, "cost", /above 10000 USD/],
    ["a cost of 10,000.000000001 USD", "gen_ai.usage.total_cost", { stringValue: "10000.000000001" }, "cost", /above/],
    ["a cost that is not finite", "gen_ai.usage.total_cost", { doubleValue: Infinity }, "cost", /not finite/],
    ["a malformed cost", "gen_ai.usage.total_cost", { stringValue: "12,50 USD" }, "cost", /malformed/],
    ["a cost of the wrong type", "gen_ai.usage.total_cost", { boolValue: true }, "cost", /malformed/],
    ["a user over 512 bytes", "user.id", { stringValue: "u".repeat(70_000) }, "field-too-long", /user is 70000 bytes/],
    ["a model over 512 bytes", "gen_ai.response.model", { stringValue: "ł".repeat(257) }, "field-too-long", /model is 514 bytes/],
    ["an API key name over 512 bytes", "trace.metadata.openrouter.api_key_name", { stringValue: "k".repeat(513) }, "field-too-long", /API key name/],
    ["a provider over 512 bytes", "trace.metadata.openrouter.provider_name", { stringValue: "p".repeat(600) }, "field-too-long", /provider/],
    ["a generation id over 512 bytes", "gen_ai.response.id", { stringValue: "gen-" + "x".repeat(600) }, "field-too-long", /generation id/]
  ]

  it.each(cases)("%s is rejected, with its reason; the other spans of the delivery are billed", (_, key, value, reason, detail) => {
    const bad = privacy()
    setAttr(rootOf(bad), key, value)
    const good = privacy()
    setAttr(rootOf(good), "gen_ai.response.id", { stringValue: "gen-neighbour" })
    const both = { resourceSpans: [...bad.resourceSpans, ...good.resourceSpans] }
    const r = decode(both)
    expect(r.events.map((e) => e.generationId)).toEqual(["gen-neighbour"])
    expect(r.rejected).toHaveLength(1)
    expect(r.rejected[0].reason).toBe(reason)
    expect(r.rejected[0].detail).toMatch(detail)
    for (const f of ["generationId", "user", "model", "apiKeyName", "provider"] as const) {
      expect(Buffer.byteLength(r.rejected[0][f])).toBeLessThanOrEqual(MAX_FIELD_BYTES)
    }
    for (const f of ["inputTokens", "outputTokens", "totalTokens", "cachedTokens", "reasoningTokens", "cost"] as const) {
      expect((r.rejected[0][f] ?? "").length).toBeLessThanOrEqual(41)
    }
  })

  it("the bounds themselves are accepted", () => {
    const d = privacy()
    const root = rootOf(d)
    setAttr(root, "gen_ai.usage.input_tokens", { intValue: "1000000000000" })
    setAttr(root, "gen_ai.usage.total_cost", { stringValue: "10000" })
    setAttr(root, "user.id", { stringValue: "u".repeat(512) })
    setAttr(root, "gen_ai.usage.output_tokens", { doubleValue: 3.0 })
    const r = decode(d)
    expect(r.rejected).toEqual([])
    expect(r.events[0]).toMatchObject({ inputTokens: 1e12, outputTokens: 3, costNusd: 10_000_000_000_000n })
  })

  it("a generation without a start time or without any id is rejected, not the delivery", () => {
    const d = privacy()
    delete rootOf(d).startTimeUnixNano
    expect(decode(d).rejected.map((r) => r.reason)).toEqual(["start-time"])
    const d2 = load("connection-test.json")
    const span = rootOf(d2)
    delete span.traceId
    delete span.spanId
    span.attributes = [{ key: "gen_ai.usage.total_cost", value: { doubleValue: 1 } }]
    expect(decode(d2).rejected.map((r) => r.reason)).toEqual(["no-id"])
  })

  it("keeps ids and numbers only, never prompt or completion", () => {
    const d = load("delivery-full.json")
    const root = rootOf(d)
    const prompt = root.attributes.find((a: any) => a.key === "gen_ai.prompt").value.stringValue as string
    setAttr(root, "gen_ai.usage.total_cost", { doubleValue: -1 })
    const r = decode(d)
    expect(r.rejected).toHaveLength(1)
    const kept = JSON.stringify(r.rejected[0], (_, v) => (typeof v === "bigint" ? String(v) : v))
    expect(kept).not.toContain(prompt.slice(0, 30))
    expect(r.rejected[0]).toMatchObject({ generationId: "gen-1790606294-sdYHTGXUVyDKWCLqX5Op", cost: "-1", inputTokens: "2489" })
  })

  it("reads protobuf-shaped ids (bytes) as hex", () => {
    const d = privacy()
    const root = rootOf(d)
    root.attributes = root.attributes.filter((a: any) => a.key !== "gen_ai.response.id")
    d.resourceSpans[0].resource.attributes = []
    root.traceId = Buffer.from("0102030405060708090a0b0c0d0e0f10", "hex")
    root.spanId = new Uint8Array(Buffer.from("a1a2a3a4a5a6a7a8", "hex"))
    expect(decode(d).events[0].generationId).toBe("0102030405060708090a0b0c0d0e0f10:a1a2a3a4a5a6a7a8")
  })
})
