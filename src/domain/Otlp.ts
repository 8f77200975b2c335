/**
 * Decoding OpenRouter Broadcast deliveries (OTLP/HTTP JSON `ExportTraceServiceRequest`) into
 * usage events. Pure and defensive: the root generation span is found by `span.type`, never by
 * its name or a missing parent; children are skipped; unknown attributes are ignored.
 */
import { Either } from "effect"
import { nanoUsdFromNumber, parseNanoUsd } from "./Money.js"
import type { IgnoredReason, UsageEvent } from "./UsageEvent.js"

export interface DecodeOptions {
  readonly clientOrgId: string
  /** Allow-list of API key names; undefined accepts all. */
  readonly apiKeyNames: ReadonlySet<string> | undefined
}

export interface DecodedDelivery {
  readonly events: ReadonlyArray<UsageEvent>
  readonly ignored: ReadonlyArray<IgnoredReason>
}

type AnyValue = Record<string, unknown>
type Attrs = Map<string, unknown>

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const attributes = (list: unknown): Attrs => {
  const out: Attrs = new Map()
  if (!Array.isArray(list)) return out
  for (const kv of list) {
    if (isObject(kv) && typeof kv.key === "string" && isObject(kv.value)) out.set(kv.key, kv.value)
  }
  return out
}

const stringAttr = (a: Attrs, key: string): string | undefined => {
  const v = a.get(key) as AnyValue | undefined
  if (v === undefined) return undefined
  const s = v.stringValue
  if (typeof s === "string") return s
  if (typeof v.intValue === "string" || typeof v.intValue === "number") return String(v.intValue)
  return undefined
}

class AttrError {
  constructor(readonly message: string) {}
}

const intAttr = (a: Attrs, key: string): number => {
  const v = a.get(key) as AnyValue | undefined
  if (v === undefined) return 0
  const raw = v.intValue ?? v.doubleValue ?? v.stringValue
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+(\.0*)?\s*$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n) || n < 0) throw new AttrError(`attribute ${key} is not a non-negative integer`)
  return n
}

/** nano-USD from a double given as a JSON number or a decimal string; undefined when absent. */
const costAttr = (a: Attrs, key: string): bigint | undefined => {
  const v = a.get(key) as AnyValue | undefined
  if (v === undefined) return undefined
  const raw = v.doubleValue ?? v.intValue ?? v.stringValue
  const parsed = typeof raw === "number"
    ? nanoUsdFromNumber(raw)
    : typeof raw === "string"
    ? parseNanoUsd(raw)
    : Either.left("missing value")
  if (Either.isLeft(parsed)) throw new AttrError(`attribute ${key}: ${parsed.left}`)
  return parsed.right
}

/** Request start in ns; OTLP JSON spells the uint64 as a string, some senders as a number. */
const timeNs = (raw: unknown): bigint => {
  if (typeof raw === "string" && /^\d{1,20}$/.test(raw)) return BigInt(raw)
  if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw)
  if (typeof raw === "number" && Number.isFinite(raw) && raw > 0) return BigInt(Math.round(raw / 1e6)) * 1_000_000n
  throw new AttrError("span startTimeUnixNano is missing or not an integer")
}

const ERROR_STATUS = 2

export const decodeDelivery = (body: unknown, options: DecodeOptions): Either.Either<DecodedDelivery, string> => {
  if (!isObject(body)) return Either.left("body is not an OTLP ExportTraceServiceRequest (expected a JSON object)")
  const resourceSpans = body.resourceSpans
  if (resourceSpans === undefined) return Either.left("body has no resourceSpans")
  if (!Array.isArray(resourceSpans)) return Either.left("resourceSpans is not an array")
  const events: Array<UsageEvent> = []
  const ignored: Array<IgnoredReason> = []
  if (resourceSpans.length === 0) return Either.right({ events, ignored: ["connection-test"] })
  try {
    for (const rs of resourceSpans) {
      if (!isObject(rs)) return Either.left("a resourceSpans element is not an object")
      const resource = attributes(isObject(rs.resource) ? rs.resource.attributes : undefined)
      const scopeSpans = rs.scopeSpans ?? []
      if (!Array.isArray(scopeSpans)) return Either.left("scopeSpans is not an array")
      for (const ss of scopeSpans) {
        if (!isObject(ss)) return Either.left("a scopeSpans element is not an object")
        const spans = ss.spans ?? []
        if (!Array.isArray(spans)) return Either.left("spans is not an array")
        for (const span of spans) {
          if (!isObject(span)) return Either.left("a span is not an object")
          const outcome = decodeSpan(span, resource, options)
          if (outcome === undefined) continue
          if (typeof outcome === "string") ignored.push(outcome)
          else events.push(outcome)
        }
      }
    }
  } catch (e) {
    if (e instanceof AttrError) return Either.left(e.message)
    throw e
  }
  return Either.right({ events, ignored })
}

/** An event, a reason it is not billed, or undefined for spans that are not roots (children). */
const decodeSpan = (
  span: Record<string, unknown>,
  resource: Attrs,
  options: DecodeOptions
): UsageEvent | IgnoredReason | undefined => {
  const a = attributes(span.attributes)
  if (span.name === "openrouter-connection-test") return "connection-test"
  if (stringAttr(a, "span.type") !== "generation") return undefined
  const cost = costAttr(a, "gen_ai.usage.total_cost")
  const status = isObject(span.status) ? Number(span.status.code) : 0
  if (cost === undefined) return status === ERROR_STATUS ? "error-no-cost" : "no-usage"
  const apiKeyName = stringAttr(a, "trace.metadata.openrouter.api_key_name") ?? ""
  if (options.apiKeyNames !== undefined && !options.apiKeyNames.has(apiKeyName)) return "api-key-not-allowed"
  const generationId = stringAttr(a, "gen_ai.response.id") ??
    stringAttr(resource, "openrouter.trace.id") ??
    `${String(span.traceId ?? "")}:${String(span.spanId ?? "")}`
  if (generationId === ":") throw new AttrError("generation span has no id (gen_ai.response.id, trace or span id)")
  return {
    generationId,
    eventTimeNs: timeNs(span.startTimeUnixNano),
    clientOrgId: options.clientOrgId,
    user: stringAttr(a, "user.id") || stringAttr(a, "trace.metadata.openrouter.user_id") || "unknown",
    model: stringAttr(a, "gen_ai.response.model") || stringAttr(a, "gen_ai.request.model") || "unknown",
    apiKeyName,
    provider: stringAttr(a, "trace.metadata.openrouter.provider_name") ?? "",
    inputTokens: intAttr(a, "gen_ai.usage.input_tokens"),
    outputTokens: intAttr(a, "gen_ai.usage.output_tokens"),
    totalTokens: intAttr(a, "gen_ai.usage.total_tokens"),
    cachedTokens: intAttr(a, "gen_ai.usage.input_tokens.cached"),
    reasoningTokens: intAttr(a, "gen_ai.usage.output_tokens.reasoning"),
    costNusd: cost
  }
}
