/** A minimal OpenRouter Broadcast delivery (OTLP JSON) with one billed generation, for seeding usage. */
export interface Generation {
  readonly id: string
  readonly time: Date
  readonly user: string
  readonly model: string
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD, as OpenRouter sends it */
  readonly cost: number
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } })
const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } })

export const generationDelivery = (g: Generation): string => {
  const startNs = BigInt(g.time.getTime()) * 1_000_000n
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [str("service.name", "openrouter"), str("openrouter.trace.id", g.id)] },
      scopeSpans: [{
        scope: { name: "openrouter" },
        spans: [{
          traceId: "0123456789abcdef0123456789abcdef",
          spanId: g.id.replace(/[^0-9a-f]/g, "").padEnd(16, "0").slice(0, 16),
          name: "LLM Generation",
          kind: 3,
          startTimeUnixNano: String(startNs),
          endTimeUnixNano: String(startNs + 1_000_000_000n),
          status: { code: 1 },
          attributes: [
            str("span.type", "generation"),
            str("gen_ai.response.id", g.id),
            str("gen_ai.response.model", g.model),
            str("user.id", g.user),
            int("gen_ai.usage.input_tokens", g.inputTokens),
            int("gen_ai.usage.output_tokens", g.outputTokens),
            int("gen_ai.usage.total_tokens", g.inputTokens + g.outputTokens),
            { key: "gen_ai.usage.total_cost", value: { doubleValue: g.cost } }
          ]
        }]
      }]
    }]
  })
}
