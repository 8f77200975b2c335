/**
 * Decoding OpenRouter Broadcast deliveries (an OTLP `ExportTraceServiceRequest`, from JSON or from
 * protobuf turned into the same object shape) into usage events. Pure and defensive: a span is a
 * generation when `span.type` says so or when it carries usage (cost or token counts), never by its
 * name or a missing parent; children are skipped; unknown attributes are ignored.
 *
 * Each generation is judged alone: a span whose usage breaks a bound is rejected (kept with its
 * reason) and never fails the rest of the delivery. Only a body that is not an OTLP export at all
 * is refused as a whole.
 */
import { Either } from "effect"
import { nanoUsdFromNumber, parseNanoUsd } from "./Money.js"
import {
  cutBytes,
  MAX_COST_NUSD,
  MAX_FIELD_BYTES,
  MAX_TOKENS,
  MAX_VALUE_CHARS,
  type RejectedSpan,
  type RejectReason,
  utf8Bytes
} from "./RejectedSpan.js"
import type { IgnoredReason, UsageEvent } from "./UsageEvent.js"

export interface DecodeOptions {
  readonly clientOrgId: string
  /** Allow-list of API key names; undefined accepts all. */
  readonly apiKeyNames: ReadonlySet<string> | undefined
}

export interface DecodedDelivery {
  readonly events: ReadonlyArray<UsageEvent>
  readonly ignored: ReadonlyArray<IgnoredReason>
  readonly rejected: ReadonlyArray<RejectedSpan>
}

type AnyValue = Record<string, unknown>
/** A span's (or resource's) attributes by key; `conflicting`: keys given twice with different values. */
class Attrs extends Map<string, unknown> {
  readonly conflicting = new Set<string>()
}

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array)

/**
 * The attributes `decodeSpan` reads (`KEYS_READ`), by key; a key given twice with different values
 * is listed in `conflicting`. The others (most of a Broadcast span: provider responses, cache
 * figures, finish reasons) are passed over: nothing asks for them.
 */
const attributes = (list: unknown): Attrs => {
  const out = new Attrs()
  if (!Array.isArray(list)) return out
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== "string" || !KEYS_READ.has(kv.key) || !isObject(kv.value)) continue
    const earlier = out.get(kv.key)
    if (earlier !== undefined && !sameValue(earlier, kv.value)) out.conflicting.add(kv.key)
    out.set(kv.key, kv.value)
  }
  return out
}

/** Two attribute values say the same (a value and its repetition), whatever their encoding's objects. */
const sameValue = (x: unknown, y: unknown): boolean =>
  JSON.stringify(x, (_, v) => (typeof v === "bigint" ? String(v) : v)) ===
    JSON.stringify(y, (_, v) => (typeof v === "bigint" ? String(v) : v))

const stringAttr = (a: Attrs, key: string): string | undefined => {
  const v = a.get(key) as AnyValue | undefined
  if (v === undefined) return undefined
  const s = v.stringValue
  if (typeof s === "string") return s
  if (typeof v.intValue === "string" || typeof v.intValue === "number") return String(v.intValue)
  return undefined
}

/** The raw scalar of an attribute (whatever its declared type), for judgement and quarantine. */
const rawOf = (a: Attrs, key: string): unknown => {
  const v = a.get(key) as AnyValue | undefined
  if (v === undefined) return undefined
  return v.intValue ?? v.doubleValue ?? v.stringValue ?? v.boolValue ?? v.arrayValue ?? v.kvlistValue ?? null
}

/** A received number as short text for the quarantine (never more than a few dozen characters). */
const valueText = (raw: unknown): string | null => {
  if (raw === undefined) return null
  const text = typeof raw === "string" ? raw : typeof raw === "number" ? String(raw) : JSON.stringify(raw) ?? String(raw)
  return text.length > MAX_VALUE_CHARS ? text.slice(0, MAX_VALUE_CHARS) + "…" : text
}

class Rejection {
  constructor(readonly reason: RejectReason, readonly detail: string) {}
}

const INTEGER_TEXT = /^\s*-?\d+(\.0*)?\s*$/
const DECIMAL_TEXT = /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

const tokenAttr = (a: Attrs, key: string): number => {
  const raw = rawOf(a, key)
  if (raw === undefined) return 0
  const n = typeof raw === "number"
    ? raw
    : typeof raw === "string" && INTEGER_TEXT.test(raw)
    ? Number(raw)
    : typeof raw === "string" && DECIMAL_TEXT.test(raw)
    ? Number(raw)
    : NaN
  if (Number.isNaN(n)) throw new Rejection("token-count", `${key} is not a number`)
  if (n < 0) throw new Rejection("token-count", `${key} is negative`)
  if (!Number.isInteger(n)) throw new Rejection("token-count", `${key} is fractional`)
  if (n > MAX_TOKENS) throw new Rejection("token-count", `${key} is above 10^12`)
  return n
}

/** nano-USD from a double given as a number or a decimal string; undefined when absent. */
const costAttr = (a: Attrs, key: string): bigint | undefined => {
  const raw = rawOf(a, key)
  if (raw === undefined) return undefined
  const parsed = typeof raw === "number"
    ? nanoUsdFromNumber(raw)
    : typeof raw === "string"
    ? parseNanoUsd(raw)
    : Either.left("not a number")
  if (Either.isLeft(parsed)) {
    const why = /negative/.test(parsed.left) ? "is negative" : /finite/.test(parsed.left) ? "is not finite" : "is malformed"
    throw new Rejection("cost", `${key} ${why}`)
  }
  if (parsed.right > MAX_COST_NUSD) throw new Rejection("cost", `${key} is above 10000 USD`)
  return parsed.right
}

const MAX_INT64 = (1n << 63n) - 1n

/** Request start in ns; OTLP JSON spells the uint64 as a string, some senders as a number. */
const timeNs = (raw: unknown): bigint => {
  let ns: bigint | undefined
  if (typeof raw === "string" && /^\d{1,20}$/.test(raw)) ns = BigInt(raw)
  else if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0) ns = BigInt(raw)
  else if (typeof raw === "number" && Number.isFinite(raw) && raw > 0) ns = BigInt(Math.round(raw / 1e6)) * 1_000_000n
  if (ns === undefined || ns === 0n || ns > MAX_INT64) {
    throw new Rejection("start-time", "startTimeUnixNano is missing or not a valid time")
  }
  return ns
}

/** Trace and span ids: hex text in OTLP JSON, bytes in protobuf. */
const idText = (raw: unknown): string =>
  typeof raw === "string" ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString("hex") : ""

const ERROR_STATUS = 2
const TOKEN_KEYS = [
  "gen_ai.usage.input_tokens",
  "gen_ai.usage.output_tokens",
  "gen_ai.usage.total_tokens",
  "gen_ai.usage.input_tokens.cached",
  "gen_ai.usage.output_tokens.reasoning"
] as const
const COST_KEY = "gen_ai.usage.total_cost"

/**
 * The attributes that decide what is billed, and to whom: given twice with different values, the
 * span is rejected (`duplicate-attribute`), never resolved by order.
 */
const BILLING_KEYS: ReadonlyArray<string> = [
  COST_KEY,
  ...TOKEN_KEYS,
  "gen_ai.response.model",
  "gen_ai.request.model",
  "user.id",
  "trace.metadata.openrouter.user_id",
  "trace.metadata.openrouter.api_key_name",
  "gen_ai.response.id"
]

/** Every attribute `decodeSpan` reads: `attributes` keeps these and no other. */
export const KEYS_READ: ReadonlySet<string> = new Set([
  ...BILLING_KEYS,
  "span.type",
  "trace.metadata.openrouter.provider_name"
])

/** A span carries usage when it has a cost or any token count: then it is billed whatever its name. */
const carriesUsage = (a: Attrs) => a.has(COST_KEY) || TOKEN_KEYS.some((k) => a.has(k))

export const decodeDelivery = (body: unknown, options: DecodeOptions): Either.Either<DecodedDelivery, string> => {
  if (!isObject(body)) return Either.left("body is not an OTLP ExportTraceServiceRequest (expected a JSON object)")
  const events: Array<UsageEvent> = []
  const ignored: Array<IgnoredReason> = []
  const rejected: Array<RejectedSpan> = []
  const resourceSpans = body.resourceSpans
  // `{}` is how an empty export is encoded (the Collector sends it): a test, like no spans at all.
  if (resourceSpans === undefined && Object.keys(body).length === 0) {
    return Either.right({ events, ignored: ["connection-test"], rejected })
  }
  if (resourceSpans === undefined) return Either.left("body has no resourceSpans")
  if (!Array.isArray(resourceSpans)) return Either.left("resourceSpans is not an array")
  let spanCount = 0
  for (const rs of resourceSpans) {
    if (!isObject(rs)) return Either.left("a resourceSpans element is not an object")
    const scopeSpans = rs.scopeSpans ?? []
    if (!Array.isArray(scopeSpans)) return Either.left("scopeSpans is not an array")
    for (const ss of scopeSpans) {
      if (!isObject(ss)) return Either.left("a scopeSpans element is not an object")
      const spans = ss.spans ?? []
      if (!Array.isArray(spans)) return Either.left("spans is not an array")
      for (const span of spans) {
        if (!isObject(span)) return Either.left("a span is not an object")
        spanCount++
        const outcome = decodeSpan(span, options)
        if (outcome === undefined) continue
        if (typeof outcome === "string") ignored.push(outcome)
        else if ("reason" in outcome) rejected.push(outcome)
        else events.push(outcome)
      }
    }
  }
  if (spanCount === 0) ignored.push("connection-test")
  return Either.right({ events, ignored, rejected })
}

/** An event, a rejected span, a reason it is not billed, or undefined for child spans. */
const decodeSpan = (
  span: Record<string, unknown>,
  options: DecodeOptions
): UsageEvent | RejectedSpan | IgnoredReason | undefined => {
  const a = attributes(span.attributes)
  const usage = carriesUsage(a)
  if (!usage && span.name === "openrouter-connection-test") return "connection-test"
  if (!usage && stringAttr(a, "span.type") !== "generation") return undefined
  const status = isObject(span.status) ? Number(span.status.code) : 0
  // An errored span with token counts but no cost is pending like any other: only one without usage is not billed.
  if (!usage) return status === ERROR_STATUS ? "error-no-cost" : "no-usage"
  const apiKeyName = stringAttr(a, "trace.metadata.openrouter.api_key_name") ?? ""
  const traceId = idText(span.traceId)
  const spanId = idText(span.spanId)
  // The span's own ids when it has no response id (or an empty one): unique per span, stable across
  // redeliveries. Never the resource's trace id, which several generations of one trace share.
  const generationId = stringAttr(a, "gen_ai.response.id") ||
    (traceId === "" && spanId === "" ? "" : `${traceId}:${spanId}`)
  const user = stringAttr(a, "user.id") || stringAttr(a, "trace.metadata.openrouter.user_id") || "unknown"
  const model = stringAttr(a, "gen_ai.response.model") || stringAttr(a, "gen_ai.request.model") || "unknown"
  const provider = stringAttr(a, "trace.metadata.openrouter.provider_name") ?? ""
  const doubled = BILLING_KEYS.filter((k) => a.conflicting.has(k))
  if (doubled.length === 0 && options.apiKeyNames !== undefined && !options.apiKeyNames.has(apiKeyName)) return "api-key-not-allowed"
  try {
    if (doubled.length > 0) {
      throw new Rejection("duplicate-attribute", `${doubled.join(", ")} given twice with different values`)
    }
    if (generationId === "") throw new Rejection("no-id", "generation span has no id (gen_ai.response.id, trace or span id)")
    const fields = { "generation id": generationId, user, model, "API key name": apiKeyName, provider }
    for (const [name, value] of Object.entries(fields)) {
      if (utf8Bytes(value) > MAX_FIELD_BYTES) {
        throw new Rejection("field-too-long", `${name} is ${utf8Bytes(value)} bytes, above ${MAX_FIELD_BYTES}`)
      }
    }
    const [inputTokens, outputTokens, totalTokens, cachedTokens, reasoningTokens] = TOKEN_KEYS.map((k) => tokenAttr(a, k))
    // No cost attribute: pending (filled from OpenRouter's record), never 0. An explicit 0 is a real 0.
    const costNusd = costAttr(a, COST_KEY) ?? null
    const eventTimeNs = timeNs(span.startTimeUnixNano)
    return {
      generationId,
      eventTimeNs,
      clientOrgId: options.clientOrgId,
      user,
      model,
      apiKeyName,
      provider,
      inputTokens,
      outputTokens,
      totalTokens,
      cachedTokens,
      reasoningTokens,
      costNusd
    }
  } catch (e) {
    if (!(e instanceof Rejection)) throw e
    let eventTimeNs: bigint | null = null
    try {
      eventTimeNs = timeNs(span.startTimeUnixNano)
    } catch {
      // kept as null
    }
    const key = generationId !== "" && utf8Bytes(generationId) <= MAX_FIELD_BYTES ? generationId : `${traceId}:${spanId}`
    return {
      spanKey: cutBytes(key),
      generationId: cutBytes(generationId),
      traceId: cutBytes(traceId, 64),
      spanId: cutBytes(spanId, 64),
      eventTimeNs,
      clientOrgId: options.clientOrgId,
      user: cutBytes(user),
      model: cutBytes(model),
      apiKeyName: cutBytes(apiKeyName),
      provider: cutBytes(provider),
      inputTokens: valueText(rawOf(a, TOKEN_KEYS[0])),
      outputTokens: valueText(rawOf(a, TOKEN_KEYS[1])),
      totalTokens: valueText(rawOf(a, TOKEN_KEYS[2])),
      cachedTokens: valueText(rawOf(a, TOKEN_KEYS[3])),
      reasoningTokens: valueText(rawOf(a, TOKEN_KEYS[4])),
      cost: valueText(rawOf(a, COST_KEY)),
      reason: e.reason,
      detail: e.detail
    }
  }
}
