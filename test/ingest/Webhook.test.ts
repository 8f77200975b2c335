import Database from "better-sqlite3"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture, postWebhook, startApp, type TestApp, WEBHOOK_SECRET } from "../support/app.js"
import { decodeStatus } from "../../src/ingest/OtlpCodec.js"
import { delivery } from "../support/otlp.js"

let app: TestApp
const ledgerRows = () => {
  const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
  db.defaultSafeIntegers(true)
  try {
    return db.prepare("SELECT * FROM ledger_events ORDER BY id").all() as Array<Record<string, any>>
  } finally {
    db.close()
  }
}
const rowOf = (generationId: string) => ledgerRows().filter((r) => r.generation_id === generationId)

beforeAll(async () => {
  app = await startApp({ OPENROUTER_WEBHOOK_SECRET: `old-secret-abc-0123456789,${WEBHOOK_SECRET}` })
})
afterAll(() => app.close())

describe("OpenRouter fixtures through the webhook", () => {
  it.each([
    ["delivery-full.json", { accepted: 1, duplicates: 0, ignored: 0, rejected: 0 }, 5_334_000n],
    ["delivery-privacy-mode.json", { accepted: 1, duplicates: 0, ignored: 0, rejected: 0 }, 5_953_000n],
    ["delivery-cached.json", { accepted: 1, duplicates: 0, ignored: 0, rejected: 0 }, 1_329_100n],
    ["delivery-error-no-cost.json", { accepted: 0, duplicates: 0, ignored: 1, rejected: 0 }, undefined],
    ["connection-test.json", { accepted: 0, duplicates: 0, ignored: 1, rejected: 0 }, undefined],
    ["connection-test-empty.json", { accepted: 0, duplicates: 0, ignored: 1, rejected: 0 }, undefined]
  ])("%s → %j", async (name, reply, cost) => {
    const before = ledgerRows().length
    const body = fixture(name)
    const res = await postWebhook(app.url, body)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(reply)
    const after = ledgerRows()
    expect(after.length - before).toBe(reply.accepted)
    if (cost !== undefined) {
      const id = JSON.parse(body.toString()).resourceSpans[0].resource.attributes
        .find((a: any) => a.key === "openrouter.trace.id").value.stringValue
      expect(rowOf(id)[0].cost_nusd).toBe(cost)
    }
  })

  it("X-Test-Connection: true is answered and not stored", async () => {
    const before = ledgerRows().length
    const res = await postWebhook(app.url, fixture("connection-test-empty.json"), { "x-test-connection": "true" })
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).accepted).toBe(0)
    expect(ledgerRows().length).toBe(before)
  })

  it("never stores prompts or completions", async () => {
    const body = fixture("delivery-full.json").toString()
    const prompt = JSON.parse(body).resourceSpans[0].scopeSpans[0].spans[0].attributes
      .find((a: any) => a.key === "gen_ai.prompt")?.value.stringValue as string
    expect(prompt.length).toBeGreaterThan(20)
    const raw = ledgerRows().map((r) => JSON.stringify(r, (_, v) => (typeof v === "bigint" ? String(v) : v))).join("\n")
    expect(raw).not.toContain(prompt.slice(0, 20))
  })
})

describe("idempotency", () => {
  it("a redelivery is a duplicate, stored once", async () => {
    const body = delivery({ generationId: "gen-dup-1" })
    expect(await (await postWebhook(app.url, body)).json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
    expect(await (await postWebhook(app.url, body)).json()).toEqual({ accepted: 0, duplicates: 1, ignored: 0, rejected: 0 })
    expect(rowOf("gen-dup-1")).toHaveLength(1)
  })

  it("two generations of one user and model in the same millisecond are two events", async () => {
    const at = 1_790_000_000_123_000_000n
    await postWebhook(app.url, delivery({ generationId: "gen-same-ms-a", startNs: at, user: "ms@x" }))
    await postWebhook(app.url, delivery({ generationId: "gen-same-ms-b", startNs: at, user: "ms@x" }))
    expect(rowOf("gen-same-ms-a")).toHaveLength(1)
    expect(rowOf("gen-same-ms-b")).toHaveLength(1)
  })
})

describe("transport", () => {
  const body = () => delivery({ generationId: `gen-t-${Crypto.randomUUID()}` })
  const idOf = (b: string) => JSON.parse(b).resourceSpans[0].scopeSpans[0].spans[0].attributes
    .find((a: any) => a.key === "gen_ai.response.id").value.stringValue

  it("PUT, and the OTLP path /v1/traces", async () => {
    const a = body()
    expect((await postWebhook(app.url, a, {}, "/api/v1/webhooks/openrouter", "PUT")).status).toBe(200)
    const b = body()
    expect((await postWebhook(app.url, b, {}, "/v1/traces")).status).toBe(200)
    expect(rowOf(idOf(a))).toHaveLength(1)
    expect(rowOf(idOf(b))).toHaveLength(1)
  })

  it("gzip and deflate bodies", async () => {
    const a = body()
    const b = body()
    expect((await postWebhook(app.url, Zlib.gzipSync(a), { "content-encoding": "gzip" })).status).toBe(200)
    expect((await postWebhook(app.url, Zlib.deflateSync(b), { "content-encoding": "deflate" })).status).toBe(200)
    expect(rowOf(idOf(a))).toHaveLength(1)
    expect(rowOf(idOf(b))).toHaveLength(1)
  })

  it("every way to authenticate, with any of the configured secrets", async () => {
    const cases: Array<Record<string, string>> = [
      { authorization: `Bearer ${WEBHOOK_SECRET}` },
      { authorization: "Bearer old-secret-abc-0123456789" },
      { authorization: "", "x-webhook-secret": WEBHOOK_SECRET }
    ]
    for (const headers of cases) {
      const b = body()
      expect((await postWebhook(app.url, b, headers)).status).toBe(200)
      expect(rowOf(idOf(b))).toHaveLength(1)
    }
    const b = body()
    const sig = Crypto.createHmac("sha256", "old-secret-abc-0123456789").update(b).digest("hex")
    expect((await postWebhook(app.url, b, { authorization: "", "x-webhook-signature": `sha256=${sig}` })).status).toBe(200)
    expect(rowOf(idOf(b))).toHaveLength(1)
  })
})

describe("bad input gets its status, stores nothing, and the server keeps serving", () => {
  const bomb = Zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)) // 64 MiB of spaces in ~64 KB
  const good = () => delivery({ generationId: `gen-bad-${Crypto.randomUUID()}` })
  const cases: Array<[string, () => [string | Buffer, Record<string, string>], number]> = [
    ["malformed JSON", () => ['{"resourceSpans": [', {}], 400],
    ["a JSON array", () => ["[1,2,3]", {}], 400],
    ["JSON that is not OTLP", () => ['{"hello":"world"}', {}], 400],
    ["no secret", () => [good(), { authorization: "" }], 401],
    ["a wrong secret", () => [good(), { authorization: "Bearer nope" }], 401],
    ["a wrong X-Webhook-Secret", () => [good(), { authorization: "", "x-webhook-secret": "nope" }], 401],
    ["a wrong HMAC", () => {
      const b = good()
      const sig = Crypto.createHmac("sha256", "not-the-secret").update(b).digest("hex")
      return [b, { authorization: "", "x-webhook-signature": `sha256=${sig}` }]
    }, 401],
    ["an HMAC of another body", () => {
      const sig = Crypto.createHmac("sha256", WEBHOOK_SECRET).update("other").digest("hex")
      return [good(), { authorization: "", "x-webhook-signature": `sha256=${sig}` }]
    }, 401],
    ["a body that is not protobuf", () => [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), { "content-type": "application/x-protobuf" }], 400],
    ["an unknown encoding", () => [good(), { "content-encoding": "br" }], 415],
    ["a body over the limit", () => [" ".repeat(1024 * 1024 + 1) + good(), {}], 413],
    ["a gzip bomb", () => [bomb, { "content-encoding": "gzip" }], 413],
    ["a broken gzip stream", () => [Buffer.from("not gzip at all"), { "content-encoding": "gzip" }], 400]
  ]

  let small: TestApp
  beforeAll(async () => {
    small = await startApp({ MAX_BODY_BYTES: String(1024 * 1024) })
  })
  afterAll(() => small.close())

  it.each(cases)("%s", async (_, make, status) => {
    const count = () => {
      const db = new Database(Path.join(small.dataDir, "usage_ledger.db"), { readonly: true })
      try {
        return (db.prepare("SELECT count(*) AS n FROM ledger_events").get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    const before = count()
    const [b, headers] = make()
    const res = await postWebhook(small.url, b, headers)
    expect(res.status).toBe(status)
    const bytes = Buffer.from(await res.arrayBuffer())
    const text = bytes.toString("utf8")
    // A google.rpc.Status: the gRPC code and a one-line message, in the request's encoding.
    const reply = headers["content-type"] === "application/x-protobuf" ? decodeStatus(bytes) : JSON.parse(text)
    expect(Object.keys(reply).sort()).toEqual(["code", "message"])
    expect(reply.code).toBeGreaterThan(0)
    expect(reply.message).toMatch(/^[^\n]+$/)
    expect(text).not.toContain(WEBHOOK_SECRET)
    expect(count()).toBe(before)
    // still serving
    expect((await fetch(small.url + "/health")).status).toBe(200)
    const ok = await postWebhook(small.url, good())
    expect(ok.status).toBe(200)
  })
})

describe("a ledger that cannot be written", () => {
  it("answers 503 so the sender retries, stores nothing, reports not ready, and recovers", async () => {
    const locked = await startApp()
    try {
      // Another process holds the write lock (as a stuck backup or a crashed writer would).
      const blocker = new Database(Path.join(locked.dataDir, "usage_ledger.db"))
      blocker.pragma("busy_timeout = 0")
      blocker.exec("BEGIN EXCLUSIVE")
      const body = delivery({ generationId: "gen-locked-1" })
      const started = Date.now()
      const res = await postWebhook(locked.url, body)
      expect(res.status).toBe(503)
      expect(res.headers.get("retry-after")).toBe("5")
      expect(await res.json()).toMatchObject({ code: 14, message: expect.stringMatching(/ledger/) })
      expect(Date.now() - started).toBeLessThan(15_000)
      const ready = await fetch(locked.url + "/ready")
      expect(ready.status).toBe(503)
      expect(((await ready.json()) as any).checks.ledger.ok).toBe(false)
      blocker.exec("ROLLBACK")
      blocker.close()
      const again = await postWebhook(locked.url, body)
      expect(again.status).toBe(200)
      expect(await again.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
      expect((await fetch(locked.url + "/ready")).status).toBe(200)
    } finally {
      await locked.close()
    }
  }, 40_000)
})
