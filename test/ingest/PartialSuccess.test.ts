import Database from "better-sqlite3"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeResponse, decodeStatus, encodeRequest } from "../../src/ingest/OtlpCodec.js"
import { postWebhook, startApp, type TestApp, WEBHOOK_SECRET } from "../support/app.js"
import { delivery } from "../support/otlp.js"
import { runCli } from "../support/process.js"

let app: TestApp
const query = <T>(sql: string, ...params: Array<unknown>): Array<T> => {
  const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
  try {
    return db.prepare(sql).all(...params) as Array<T>
  } finally {
    db.close()
  }
}
const countOf = (prefix: string) =>
  query<{ n: number }>("SELECT count(*) AS n FROM ledger_events WHERE generation_id LIKE ?", `${prefix}%`)[0].n
const rootAttrs = (d: any) =>
  d.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
    .find((s: any) => s.attributes.some((a: any) => a.key === "span.type" && a.value.stringValue === "generation"))
    .attributes as Array<{ key: string; value: any }>
const setAttr = (d: any, key: string, value: unknown) => {
  const a = rootAttrs(d).find((x) => x.key === key)
  if (a === undefined) rootAttrs(d).push({ key, value })
  else a.value = value
}

beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app.close())

describe("one bad span never costs the others", () => {
  it("a JSON export of 500 generations with one invalid span stores 499, answers 200 with rejected: 1 and partialSuccess, and the quarantine lists it", async () => {
    const resourceSpans = Array.from({ length: 500 }, (_, i) => {
      const d = JSON.parse(delivery({ generationId: `gen-five-hundred-${i}` }))
      if (i === 250) setAttr(d, "gen_ai.usage.output_tokens", { doubleValue: 153.5 })
      return d.resourceSpans
    }).flat()
    const res = await postWebhook(app.url, JSON.stringify({ resourceSpans }))
    expect(res.status).toBe(200)
    const reply = (await res.json()) as any
    expect(reply).toMatchObject({ accepted: 499, duplicates: 0, ignored: 0, rejected: 1 })
    expect(reply.partialSuccess.rejectedSpans).toBe(1)
    expect(reply.partialSuccess.errorMessage).toMatch(/gen-five-hundred-250: gen_ai\.usage\.output_tokens is fractional/)
    expect(countOf("gen-five-hundred-")).toBe(499)
    expect(query("SELECT 1 FROM ledger_events WHERE generation_id = 'gen-five-hundred-250'")).toEqual([])

    const listed = await runCli(["rejected", "list"], { ...process.env, ...app.vars } as Record<string, string>)
    expect(listed.code).toBe(0)
    const line = listed.stdout.split("\n").find((l) => l.includes("gen-five-hundred-250"))
    expect(line).toMatch(/token-count gen-five-hundred-250 .*out=153\.5.*: gen_ai\.usage\.output_tokens is fractional/)
    const asJson = await runCli(["rejected", "list", "--json"], { ...process.env, ...app.vars } as Record<string, string>)
    const rows = asJson.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(rows.filter((r) => r.generationId === "gen-five-hundred-250")).toMatchObject([
      { reason: "token-count", outputTokens: "153.5", user: "anna.kowalska@example.pl" }
    ])

    // Redelivered: the 499 are duplicates, the bad one is still rejected and kept once.
    const again = (await (await postWebhook(app.url, JSON.stringify({ resourceSpans }))).json()) as any
    expect(again).toMatchObject({ accepted: 0, duplicates: 499, rejected: 1 })
    expect(query("SELECT 1 FROM rejected_spans WHERE generation_id = 'gen-five-hundred-250'")).toHaveLength(1)

    const metrics = await (await fetch(app.url + "/metrics")).text()
    expect(metrics).toMatch(/mai_webhook_events_total\{outcome="rejected",reason="token-count"\} 2/)
  }, 60_000)

  it("400 concurrent deliveries, a few with an over-limit cost: every valid one 200 and stored once, the bad ones rejected alone", async () => {
    const bad = new Set([3, 97, 211, 333, 399])
    const replies = await Promise.all(Array.from({ length: 400 }, async (_, i) => {
      const d = JSON.parse(delivery({ generationId: `gen-crowd-${i}` }))
      if (bad.has(i)) setAttr(d, "gen_ai.usage.total_cost", { doubleValue: 1e21 })
      const res = await postWebhook(app.url, JSON.stringify(d))
      return { i, status: res.status, body: (await res.json()) as any }
    }))
    for (const r of replies) {
      expect(r.status).toBe(200)
      if (bad.has(r.i)) expect(r.body).toMatchObject({ accepted: 0, rejected: 1 })
      else expect(r.body).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
    }
    expect(countOf("gen-crowd-")).toBe(395)
    const perId = query<{ n: number }>(
      "SELECT count(*) AS n FROM ledger_events WHERE generation_id LIKE 'gen-crowd-%' GROUP BY generation_id HAVING n > 1"
    )
    expect(perId).toEqual([])
    const quarantined = query<{ generation_id: string; reason: string; cost: string }>(
      "SELECT generation_id, reason, cost FROM rejected_spans WHERE generation_id LIKE 'gen-crowd-%' ORDER BY generation_id"
    )
    expect(quarantined.map((q) => q.generation_id).sort()).toEqual([...bad].map((i) => `gen-crowd-${i}`).sort())
    expect(quarantined.every((q) => q.reason === "cost" && q.cost === "1e+21")).toBe(true)
  }, 120_000)

  it("a 70,000-character user id is a rejected span, kept cut to 512 bytes", async () => {
    const d = JSON.parse(delivery({ generationId: "gen-long-user" }))
    setAttr(d, "user.id", { stringValue: "x".repeat(70_000) })
    const reply = (await (await postWebhook(app.url, JSON.stringify(d))).json()) as any
    expect(reply).toMatchObject({ accepted: 0, rejected: 1 })
    const [row] = query<{ user: string; reason: string }>("SELECT user, reason FROM rejected_spans WHERE generation_id = 'gen-long-user'")
    expect(row.reason).toBe("field-too-long")
    expect(row.user.length).toBe(512)
  })
})

describe("OTLP/HTTP as clients speak it", () => {
  it("{} is an empty export: 200, nothing stored", async () => {
    const res = await postWebhook(app.url, "{}", {}, "/v1/traces")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 0, ignored: 1, rejected: 0 })
  })

  const protobufOf = (json: string) => {
    const d = JSON.parse(json)
    for (const rs of d.resourceSpans) {
      for (const s of rs.scopeSpans.flatMap((ss: any) => ss.spans)) {
        s.traceId = Buffer.from(s.traceId, "hex")
        s.spanId = Buffer.from(s.spanId, "hex")
        if (s.parentSpanId) s.parentSpanId = Buffer.from(s.parentSpanId, "hex")
      }
    }
    return Buffer.from(encodeRequest(d))
  }
  const PROTO = { "content-type": "application/x-protobuf" }

  it("binary protobuf: stored like JSON, answered with an ExportTraceServiceResponse; partial success names the rejected span", async () => {
    const ok = await postWebhook(app.url, protobufOf(delivery({ generationId: "gen-proto-1", cost: "0.25" })), PROTO, "/v1/traces")
    expect(ok.status).toBe(200)
    expect(ok.headers.get("content-type")).toBe("application/x-protobuf")
    expect(decodeResponse(Buffer.from(await ok.arrayBuffer()))).toEqual({})
    expect(query("SELECT cost_nusd, user, input_tokens FROM ledger_events WHERE generation_id = 'gen-proto-1'")).toEqual([
      { cost_nusd: 250_000_000, user: "anna.kowalska@example.pl", input_tokens: 4149 }
    ])

    const d = JSON.parse(delivery({ generationId: "gen-proto-bad" }))
    setAttr(d, "gen_ai.usage.input_tokens", { intValue: "-3" })
    const both = JSON.stringify({
      resourceSpans: [...d.resourceSpans, ...JSON.parse(delivery({ generationId: "gen-proto-2" })).resourceSpans]
    })
    const partial = await postWebhook(app.url, protobufOf(both), PROTO, "/v1/traces")
    expect(partial.status).toBe(200)
    const r = decodeResponse(Buffer.from(await partial.arrayBuffer()))
    expect(r.partialSuccess?.rejectedSpans).toBe(1)
    expect(r.partialSuccess?.errorMessage).toMatch(/gen-proto-bad: gen_ai\.usage\.input_tokens is negative/)
    expect(countOf("gen-proto-2")).toBe(1)
    expect(countOf("gen-proto-bad")).toBe(0)
  })

  it("protobuf errors are binary google.rpc.Status; an empty protobuf export is a test", async () => {
    const unauth = await postWebhook(app.url, protobufOf(delivery({ generationId: "gen-proto-x" })), {
      ...PROTO,
      authorization: "Bearer wrong"
    })
    expect(unauth.status).toBe(401)
    expect(decodeStatus(Buffer.from(await unauth.arrayBuffer()))).toEqual({ code: 16, message: "missing or wrong webhook secret" })
    const malformed = await postWebhook(app.url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO)
    expect(malformed.status).toBe(400)
    const status = decodeStatus(Buffer.from(await malformed.arrayBuffer()))
    expect(status.code).toBe(3)
    expect(status.message).toMatch(/^malformed protobuf/)
    const empty = await postWebhook(app.url, Buffer.alloc(0), PROTO, "/v1/traces")
    expect(empty.status).toBe(200)
    expect(decodeResponse(Buffer.from(await empty.arrayBuffer()))).toEqual({})
    expect(countOf("gen-proto-x")).toBe(0)
  })

  it("JSON errors are a google.rpc.Status", async () => {
    const res = await postWebhook(app.url, "{}", { authorization: `Bearer ${WEBHOOK_SECRET}x` })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ code: 16, message: "missing or wrong webhook secret" })
  })
})
