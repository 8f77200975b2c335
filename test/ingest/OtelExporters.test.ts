/**
 * The official OpenTelemetry JS exporters (OTLP/HTTP JSON and protobuf, with and without gzip) post
 * OpenRouter-shaped traces to /v1/traces: a root generation span with usage and two children, as
 * in test/fixtures/openrouter. Each export must report success, the ledger must hold exactly the
 * generations, and a redelivery must store nothing new.
 */
import { context, trace } from "@opentelemetry/api"
import { OTLPTraceExporter as HttpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { CompressionAlgorithm } from "@opentelemetry/otlp-exporter-base"
import { resourceFromAttributes } from "@opentelemetry/resources"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import Database from "better-sqlite3"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startApp, type TestApp, WEBHOOK_SECRET } from "../support/app.js"

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app.close())

interface Generation {
  readonly id: string
  readonly startMs: number
  readonly user: string
  readonly model: string
  readonly input: number
  readonly output: number
  readonly cached: number
  readonly reasoning: number
  readonly cost: number
  readonly costNusd: bigint
}

const generations = (tag: string): Array<Generation> =>
  Array.from({ length: 5 }, (_, i) => ({
    id: `gen-otel-${tag}-${i}`,
    startMs: 1_790_606_306_088 + i * 1_000,
    user: `user-${i}@example.pl`,
    model: i % 2 === 0 ? "anthropic/claude-haiku-4.5" : "openai/gpt-5.1-codex-mini",
    input: 4149 + i,
    output: 154 + i,
    cached: i * 10,
    reasoning: 15,
    cost: [0.005953, 0.0013291, 1e-6, 51, 0.000125][i],
    costNusd: [5_953_000n, 1_329_100n, 1_000n, 51_000_000_000n, 125_000n][i]
  }))

/** Spans as OpenRouter shapes them, produced by the real SDK. */
const spansOf = (gens: ReadonlyArray<Generation>): Array<ReadableSpan> => {
  const memory = new InMemorySpanExporter()
  for (const g of gens) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "openrouter", "openrouter.trace.id": g.id }),
      spanProcessors: [new SimpleSpanProcessor(memory)]
    })
    const tracer = provider.getTracer("openrouter")
    const root = tracer.startSpan("LLM Generation", {
      startTime: new Date(g.startMs),
      attributes: {
        "trace.name": "OpenRouter Request",
        "user.id": g.user,
        "span.type": "generation",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": g.model,
        "gen_ai.response.model": g.model,
        "gen_ai.response.id": g.id,
        "gen_ai.usage.input_tokens": g.input,
        "gen_ai.usage.output_tokens": g.output,
        "gen_ai.usage.total_tokens": g.input + g.output,
        "gen_ai.usage.input_tokens.cached": g.cached,
        "gen_ai.usage.output_tokens.reasoning": g.reasoning,
        "gen_ai.usage.total_cost": g.cost,
        "gen_ai.prompt": "[{\"role\":\"user\",\"content\":\"what is the capital of Poland?\"}]",
        "trace.metadata.openrouter.api_key_name": "fixture key",
        "trace.metadata.openrouter.provider_name": "Amazon Bedrock"
      }
    })
    const ctx = trace.setSpan(context.active(), root)
    for (const [name, suffix] of [["provider attempt 1: Amazon Bedrock", "attempt-0"], ["generation", "generation"]]) {
      tracer.startSpan(name, {
        startTime: new Date(g.startMs + 50),
        attributes: { "span.type": "span", "gen_ai.operation.name": "chat", "gen_ai.response.id": `${g.id}:${suffix}` }
      }, ctx).end(new Date(g.startMs + 900))
    }
    root.end(new Date(g.startMs + 1_000))
  }
  return memory.getFinishedSpans() as Array<ReadableSpan>
}

const exportWith = (exporter: HttpJsonExporter | ProtoExporter, spans: Array<ReadableSpan>) =>
  new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve))

const rows = (prefix: string) => {
  const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
  db.defaultSafeIntegers(true)
  try {
    return db.prepare("SELECT * FROM ledger_events WHERE generation_id LIKE ? ORDER BY generation_id").all(`${prefix}%`) as Array<any>
  } finally {
    db.close()
  }
}

describe("official OpenTelemetry JS exporters", () => {
  const cases = [
    ["OTLP/HTTP JSON", "json", false],
    ["OTLP/HTTP JSON, gzip", "json-gz", true],
    ["OTLP/HTTP protobuf", "proto", false],
    ["OTLP/HTTP protobuf, gzip", "proto-gz", true]
  ] as const

  it.each(cases)("%s: export succeeds, the ledger holds exactly the generations, a redelivery stores nothing new", async (_, tag, gzip) => {
    const config = {
      url: `${app.url}/v1/traces`,
      headers: { authorization: `Bearer ${WEBHOOK_SECRET}` },
      compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      timeoutMillis: 10_000
    }
    const exporter = tag.startsWith("proto") ? new ProtoExporter(config) : new HttpJsonExporter(config)
    try {
      const gens = generations(tag)
      const spans = spansOf(gens)
      expect(spans).toHaveLength(15)
      const first = await exportWith(exporter, spans)
      expect(first.error).toBeUndefined()
      expect(first.code).toBe(0) // ExportResultCode.SUCCESS
      const stored = rows(`gen-otel-${tag}-`)
      expect(stored.map((r) => r.generation_id)).toEqual(gens.map((g) => g.id))
      for (const [i, g] of gens.entries()) {
        expect(stored[i]).toMatchObject({
          user: g.user,
          model: g.model,
          api_key_name: "fixture key",
          provider: "Amazon Bedrock",
          input_tokens: BigInt(g.input),
          output_tokens: BigInt(g.output),
          total_tokens: BigInt(g.input + g.output),
          cached_tokens: BigInt(g.cached),
          reasoning_tokens: BigInt(g.reasoning),
          cost_nusd: g.costNusd,
          event_time_ns: BigInt(g.startMs) * 1_000_000n
        })
      }
      const again = await exportWith(exporter, spans)
      expect(again.code).toBe(0)
      expect(rows(`gen-otel-${tag}-`)).toHaveLength(gens.length)
    } finally {
      await exporter.shutdown()
    }
  }, 30_000)
})
