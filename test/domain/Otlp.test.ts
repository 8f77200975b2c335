import { Either } from "effect"
import * as Fs from "node:fs"
import { describe, expect, it } from "vitest"
import { decodeDelivery, type DecodeOptions, KEYS_READ } from "../../src/domain/Otlp.js"

const options: DecodeOptions = { clientOrgId: "acme", apiKeyNames: undefined }
const load = (name: string) =>
  JSON.parse(Fs.readFileSync(new URL(`../fixtures/openrouter/${name}`, import.meta.url), "utf8"))
const decode = (body: unknown, opts = options) => Either.getOrThrow(decodeDelivery(body, opts))

/** The root generation span of a fixture, to mutate in tests. */
const rootOf = (d: any) => d.resourceSpans[0].scopeSpans[0].spans[0]
const attr = (span: any, key: string) => span.attributes.find((a: any) => a.key === key)

describe("OpenRouter fixtures decode as their README says", () => {
  it("full delivery: one event, no user, 0.005334 USD, children ignored", () => {
    const { events, ignored } = decode(load("delivery-full.json"))
    expect(events).toHaveLength(1)
    expect(ignored).toEqual([])
    expect(events[0].user).toBe("unknown")
    expect(events[0].costNusd).toBe(5_334_000n)
    expect(events[0].clientOrgId).toBe("acme")
    expect(events[0].generationId).toMatch(/^gen-/)
  })

  it("privacy mode: one event with user.id and 0.005953 USD", () => {
    const { events } = decode(load("delivery-privacy-mode.json"))
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      user: "anna.kowalska@example.pl",
      model: "anthropic/claude-haiku-4.5",
      provider: "Amazon Bedrock",
      apiKeyName: "fixture key",
      inputTokens: 4149,
      outputTokens: 154,
      totalTokens: 4303,
      reasoningTokens: 15,
      costNusd: 5_953_000n,
      eventTimeNs: 1790606306088000000n
    })
  })

  it("cached: 4136 cached tokens, 0.0013291 USD, key acme-prod", () => {
    const { events } = decode(load("delivery-cached.json"))
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ cachedTokens: 4136, costNusd: 1_329_100n, apiKeyName: "acme-prod" })
  })

  it("an abandoned request with error status and no cost is not billed", () => {
    expect(decode(load("delivery-error-no-cost.json"))).toEqual({ events: [], ignored: ["error-no-cost"], rejected: [] })
  })

  it("connection tests are not billed", () => {
    expect(decode(load("connection-test.json"))).toEqual({ events: [], ignored: ["connection-test"], rejected: [] })
    expect(decode(load("connection-test-empty.json"))).toEqual({ events: [], ignored: ["connection-test"], rejected: [] })
  })
})

describe("defensive decoding", () => {
  it("accepts intValue as a decimal string and doubleValue as a string", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    attr(root, "gen_ai.usage.input_tokens").value = { intValue: "4149" }
    attr(root, "gen_ai.usage.total_cost").value = { doubleValue: "0.005953" }
    const { events } = decode(d)
    expect(events[0].inputTokens).toBe(4149)
    expect(events[0].costNusd).toBe(5_953_000n)
  })

  it("finds a renamed root that has a parent, by span.type", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    root.name = "my renamed span"
    root.parentSpanId = "0123456789abcdef"
    expect(decode(d).events).toHaveLength(1)
  })

  it("falls back to the span's own trace and span id for the generation id, never the resource's trace id", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    root.attributes = root.attributes.filter((a: any) => a.key !== "gen_ai.response.id")
    expect(decode(d).events[0].generationId).toBe(`${root.traceId}:${root.spanId}`)
    // An empty id falls back the same way (it is not "no id").
    root.attributes.push({ key: "gen_ai.response.id", value: { stringValue: "" } })
    expect(decode(d).events[0].generationId).toBe(`${root.traceId}:${root.spanId}`)
  })

  it("two generations of one trace without response ids are two events (1 + 2 USD, both billed)", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    root.attributes = root.attributes.filter((a: any) => a.key !== "gen_ai.response.id" && a.key !== "gen_ai.usage.total_cost")
    const second = structuredClone(d.resourceSpans[0])
    const first = d.resourceSpans[0]
    const rootOfRs = (rs: any) => rs.scopeSpans[0].spans.find((s: any) => s.spanId === root.spanId)
    rootOfRs(first).attributes.push({ key: "gen_ai.usage.total_cost", value: { doubleValue: 1.0 } })
    const r2 = rootOfRs(second)
    r2.spanId = "00000000000000ff"
    r2.attributes.push({ key: "gen_ai.usage.total_cost", value: { doubleValue: 2.0 } })
    d.resourceSpans = [first, second]
    const events = decode(d).events
    expect(events.map((e) => [e.generationId, e.costNusd])).toEqual([
      [`${root.traceId}:${root.spanId}`, 1_000_000_000n],
      [`${root.traceId}:00000000000000ff`, 2_000_000_000n]
    ])
  })

  it("a billing attribute given twice with different values rejects the span (duplicate-attribute), never resolved by order", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    root.attributes.push({ key: "trace.metadata.openrouter.api_key_name", value: { stringValue: "allowed" } })
    root.attributes.push({ key: "trace.metadata.openrouter.api_key_name", value: { stringValue: "other" } })
    const out = decode(d, { clientOrgId: "acme", apiKeyNames: new Set(["other"]) })
    expect(out.events).toEqual([])
    expect(out.rejected).toMatchObject([{ reason: "duplicate-attribute", detail: "trace.metadata.openrouter.api_key_name given twice with different values" }])
    // The same value twice is the same attribute: billed.
    const same = load("delivery-privacy-mode.json")
    rootOf(same).attributes.push(structuredClone(rootOf(same).attributes.find((a: any) => a.key === "gen_ai.usage.total_cost")))
    expect(decode(same).events).toHaveLength(1)
  })

  it("user falls back to trace.metadata.openrouter.user_id; model to the request model", () => {
    const d = load("delivery-privacy-mode.json")
    const root = rootOf(d)
    root.attributes = root.attributes.filter((a: any) => a.key !== "user.id" && a.key !== "gen_ai.response.model")
    root.attributes.push({ key: "trace.metadata.openrouter.user_id", value: { stringValue: "u-42" } })
    const e = decode(d).events[0]
    expect(e.user).toBe("u-42")
    expect(e.model).toBe("anthropic/claude-haiku-4.5")
  })

  it("ignores keys outside the allow-list", () => {
    const body = load("delivery-cached.json")
    expect(decode(body, { clientOrgId: "acme", apiKeyNames: new Set(["other"]) })).toEqual({
      events: [],
      ignored: ["api-key-not-allowed"],
      rejected: []
    })
    expect(decode(body, { clientOrgId: "acme", apiKeyNames: new Set(["acme-prod"]) }).events).toHaveLength(1)
  })

  it.each([
    ["an array", []],
    ["a string", "x"],
    ["no resourceSpans", { foo: 1 }],
    ["resourceSpans not an array", { resourceSpans: {} }],
    ["a span that is not an object", { resourceSpans: [{ scopeSpans: [{ spans: [7] }] }] }]
  ])("refuses %s", (_, body) => {
    expect(Either.isLeft(decodeDelivery(body, options))).toBe(true)
  })

  it("rejects a span whose attributes have the wrong type, naming them, without failing the delivery", () => {
    const d = load("delivery-privacy-mode.json")
    attr(rootOf(d), "gen_ai.usage.input_tokens").value = { intValue: "many" }
    const r = decode(d)
    expect(r.events).toEqual([])
    expect(r.rejected).toHaveLength(1)
    expect(r.rejected[0]).toMatchObject({ reason: "token-count", inputTokens: "many" })
    expect(r.rejected[0].detail).toMatch(/gen_ai\.usage\.input_tokens/)
    const d2 = load("delivery-privacy-mode.json")
    attr(rootOf(d2), "gen_ai.usage.total_cost").value = { doubleValue: "cheap" }
    const r2 = decode(d2)
    expect(r2.rejected[0]).toMatchObject({ reason: "cost", cost: "cheap" })
    expect(r2.rejected[0].detail).toMatch(/total_cost is malformed/)
  })
})

describe("the attributes a span is judged on", () => {
  it("every attribute key decodeSpan reads is one `attributes` keeps (a key left out would read as absent)", () => {
    const source = Fs.readFileSync(new URL("../../src/domain/Otlp.ts", import.meta.url), "utf8")
    const read = [...source.matchAll(/(?:stringAttr|rawOf|tokenAttr|costAttr)\(a, "([^"]+)"\)/g)].map((m) => m[1])
    expect(read.length).toBeGreaterThan(5)
    for (const key of read) expect(KEYS_READ.has(key), key).toBe(true)
  })
})
