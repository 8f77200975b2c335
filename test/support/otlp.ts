/** Builds OpenRouter deliveries from the real privacy-mode fixture, with chosen id, time, user, model, cost. */
import * as Fs from "node:fs"

const template = Fs.readFileSync(
  new URL("../../../shared/fixtures/openrouter/delivery-privacy-mode.json", import.meta.url),
  "utf8"
)

export interface DeliveryOptions {
  readonly generationId: string
  readonly startNs?: bigint
  readonly user?: string
  readonly model?: string
  /** Decimal text, e.g. "0.005953". */
  readonly cost?: string
  readonly apiKeyName?: string
}

export const delivery = (o: DeliveryOptions): string => {
  const d = JSON.parse(template)
  d.resourceSpans[0].resource.attributes = d.resourceSpans[0].resource.attributes
    .map((a: any) => (a.key === "openrouter.trace.id" ? { ...a, value: { stringValue: o.generationId } } : a))
  for (const rs of d.resourceSpans) {
    for (const span of rs.scopeSpans[0].spans) {
      if (o.startNs !== undefined) span.startTimeUnixNano = String(o.startNs)
      const set = (key: string, value: unknown) => {
        const a = span.attributes.find((x: any) => x.key === key)
        if (a !== undefined) a.value = value
      }
      set("gen_ai.response.id", { stringValue: o.generationId })
      if (o.user !== undefined) set("user.id", { stringValue: o.user })
      if (o.model !== undefined) {
        set("gen_ai.response.model", { stringValue: o.model })
        set("gen_ai.request.model", { stringValue: o.model })
      }
      if (o.cost !== undefined) set("gen_ai.usage.total_cost", { doubleValue: Number(o.cost) })
      if (o.apiKeyName !== undefined) set("trace.metadata.openrouter.api_key_name", { stringValue: o.apiKeyName })
    }
  }
  return JSON.stringify(d)
}
