/**
 * Real OpenRouter deliveries at chosen times, users, models and costs: the privacy-mode fixture
 * (root generation span plus its child spans) with those attributes rewritten.
 */
import { fixture } from "./app.js"

export interface EventSpec {
  /** generation id, e.g. "gen-batch-1" (also the trace id attribute) */
  readonly id: string
  /** the event time: an ISO instant with milliseconds, e.g. "2025-10-25T21:59:59.999Z" */
  readonly at: string
  readonly user: string
  readonly model: string
  /** USD, as decimal text (sent as a JSON number, like OpenRouter does) */
  readonly cost: string
}

type Attr = { key: string; value: Record<string, unknown> }
type Span = { traceId: string; spanId: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Array<Attr> }

const template = () => JSON.parse(fixture("delivery-privacy-mode.json").toString("utf8"))

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

/** One delivery per event, as OpenRouter sends them. */
export const deliveryOf = (e: EventSpec): string => {
  const d = template()
  const startNs = BigInt(Date.parse(e.at)) * 1_000_000n
  if (!/\.\d{3}Z$/.test(e.at) || Number.isNaN(Date.parse(e.at))) throw new Error(`deliveryOf: bad instant ${e.at}`)
  const traceId = hex(e.id, 32)
  for (const rs of d.resourceSpans as Array<{ resource: { attributes: Array<Attr> }; scopeSpans: Array<{ spans: Array<Span> }> }>) {
    setAttr(rs.resource.attributes, "openrouter.trace.id", { stringValue: e.id })
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const offset = BigInt(span.startTimeUnixNano) - BigInt(d.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano)
        const length = BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)
        span.traceId = traceId
        span.startTimeUnixNano = String(startNs + offset)
        span.endTimeUnixNano = String(startNs + offset + length)
        if (span.attributes.some((a) => a.key === "span.type" && a.value.stringValue === "generation")) {
          setAttr(span.attributes, "gen_ai.response.id", { stringValue: e.id })
          setAttr(span.attributes, "user.id", { stringValue: e.user })
          setAttr(span.attributes, "gen_ai.response.model", { stringValue: e.model })
          setAttr(span.attributes, "gen_ai.request.model", { stringValue: e.model })
          setAttr(span.attributes, "gen_ai.usage.total_cost", { doubleValue: Number(e.cost) })
        }
      }
    }
  }
  // The child spans' parent ids still point at the root span id, which is unchanged.
  return JSON.stringify(d)
}

/** Nano-USD of a decimal text, by integer arithmetic only (the test's independent computation). */
export const nanoUsd = (cost: string): bigint => {
  const [whole, frac = ""] = cost.split(".")
  return BigInt(whole) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9))
}

/** round_half_up(nusd × markup × rate, 2) in PLN, as "x.yy", computed with bigint only. */
export const expectedPln = (nusd: bigint, markup: string, rate: string): string => {
  const scaled = (t: string) => {
    const [w, f = ""] = t.split(".")
    return { n: BigInt(w + f), scale: f.length }
  }
  const m = scaled(markup)
  const r = scaled(rate)
  const product = nusd * m.n * r.n // scale 9 + m.scale + r.scale
  const divisor = 10n ** BigInt(9 + m.scale + r.scale - 2)
  const grosze = (product * 2n + divisor) / (2n * divisor) // half up, positives only
  return `${grosze / 100n}.${String(grosze % 100n).padStart(2, "0")}`
}
