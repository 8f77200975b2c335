/**
 * OpenRouter deliveries for tests, built from the real privacy-mode fixture (root generation span
 * plus its child spans) with chosen id, time, user, model, cost and token counts rewritten.
 */
import * as Fs from "node:fs"

const template = Fs.readFileSync(
  new URL("../fixtures/openrouter/delivery-privacy-mode.json", import.meta.url),
  "utf8"
)

export interface DeliveryOptions {
  readonly generationId: string
  /** Request start in ns; the child spans keep their offsets from it. */
  readonly startNs?: bigint
  readonly user?: string
  readonly model?: string
  /** Decimal text, e.g. "0.005953" (sent as a JSON number, like OpenRouter does). */
  readonly cost?: string
  readonly apiKeyName?: string
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly cachedTokens?: number
  readonly reasoningTokens?: number
}

type Attr = { key: string; value: Record<string, unknown> }
type Span = { traceId: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Array<Attr> }

const hex = (s: string, n: number) => {
  let h = ""
  for (let i = 0; h.length < n; i++) h += ((s.charCodeAt(i % s.length) * 31 + i * 7) & 0xff).toString(16).padStart(2, "0")
  return h.slice(0, n)
}

const setAttr = (attrs: Array<Attr>, key: string, value: Record<string, unknown>) => {
  const a = attrs.find((x) => x.key === key)
  if (a === undefined) attrs.push({ key, value })
  else a.value = value
}

export const delivery = (o: DeliveryOptions): string => {
  const d = JSON.parse(template)
  const rootStart = BigInt(d.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano)
  const traceId = hex(o.generationId, 32)
  for (const rs of d.resourceSpans as Array<{ resource: { attributes: Array<Attr> }; scopeSpans: Array<{ spans: Array<Span> }> }>) {
    setAttr(rs.resource.attributes, "openrouter.trace.id", { stringValue: o.generationId })
    for (const span of rs.scopeSpans.flatMap((ss) => ss.spans)) {
      span.traceId = traceId
      if (o.startNs !== undefined) {
        const offset = BigInt(span.startTimeUnixNano) - rootStart
        const length = BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)
        span.startTimeUnixNano = String(o.startNs + offset)
        span.endTimeUnixNano = String(o.startNs + offset + length)
      }
      if (!span.attributes.some((a) => a.key === "span.type" && a.value.stringValue === "generation")) continue
      const a = span.attributes
      setAttr(a, "gen_ai.response.id", { stringValue: o.generationId })
      if (o.user !== undefined) setAttr(a, "user.id", { stringValue: o.user })
      if (o.model !== undefined) {
        setAttr(a, "gen_ai.response.model", { stringValue: o.model })
        setAttr(a, "gen_ai.request.model", { stringValue: o.model })
      }
      if (o.cost !== undefined) setAttr(a, "gen_ai.usage.total_cost", { doubleValue: Number(o.cost) })
      if (o.apiKeyName !== undefined) setAttr(a, "trace.metadata.openrouter.api_key_name", { stringValue: o.apiKeyName })
      if (o.inputTokens !== undefined) setAttr(a, "gen_ai.usage.input_tokens", { intValue: o.inputTokens })
      if (o.outputTokens !== undefined) setAttr(a, "gen_ai.usage.output_tokens", { intValue: o.outputTokens })
      if (o.inputTokens !== undefined || o.outputTokens !== undefined) {
        const total = (o.inputTokens ?? 0) + (o.outputTokens ?? 0)
        setAttr(a, "gen_ai.usage.total_tokens", { intValue: total })
      }
      if (o.cachedTokens !== undefined) setAttr(a, "gen_ai.usage.input_tokens.cached", { intValue: o.cachedTokens })
      if (o.reasoningTokens !== undefined) setAttr(a, "gen_ai.usage.output_tokens.reasoning", { intValue: o.reasoningTokens })
    }
  }
  return JSON.stringify(d)
}

/** A delivery at an ISO instant with milliseconds, e.g. "2025-10-25T21:59:59.999Z". */
export interface EventSpec {
  readonly id: string
  readonly at: string
  readonly user: string
  readonly model: string
  /** USD, as decimal text */
  readonly cost: string
}

export const deliveryOf = (e: EventSpec): string => {
  if (!/\.\d{3}Z$/.test(e.at) || Number.isNaN(Date.parse(e.at))) throw new Error(`deliveryOf: bad instant ${e.at}`)
  return delivery({ generationId: e.id, startNs: BigInt(Date.parse(e.at)) * 1_000_000n, user: e.user, model: e.model, cost: e.cost })
}

/** One billed generation with its own token counts (no cached or reasoning tokens). */
export interface Generation {
  readonly id: string
  readonly time: Date
  readonly user: string
  readonly model: string
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD, as OpenRouter sends it */
  readonly cost: number
  /** the API key's name (`trace.metadata.openrouter.api_key_name`); the fixture's when absent */
  readonly apiKeyName?: string
}

export const generationDelivery = (g: Generation): string =>
  delivery({
    generationId: g.id,
    startNs: BigInt(g.time.getTime()) * 1_000_000n,
    user: g.user,
    model: g.model,
    cost: String(g.cost),
    inputTokens: g.inputTokens,
    outputTokens: g.outputTokens,
    cachedTokens: 0,
    reasoningTokens: 0,
    ...(g.apiKeyName === undefined ? {} : { apiKeyName: g.apiKeyName })
  })
