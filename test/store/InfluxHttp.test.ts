/**
 * The HTTP contract of InfluxClient, checked against a local recorder (no InfluxDB 2 runs here):
 * the v2 write path, v1 basic auth, the /query request, and what happens when InfluxDB refuses.
 */
import { DateTime, Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Ledger } from "../../src/store/Ledger.js"
import { UsageStore } from "../../src/store/UsageStore.js"
import { asAdmin, fixture, postWebhook, startApp, type TestApp } from "../support/app.js"
import { eventually, type RecordedRequest, startRecorder } from "../support/influx.js"

const TOKEN = "v2-token-SECRET-0123456789"
const PRIVACY_LINE =
  "usage_tracking,api_key=fixture\\ key,client_org_id=default,model=anthropic/claude-haiku-4.5," +
  "user=anna.kowalska@example.pl cached_tokens=0i,cost_nusd=5953000i," +
  "generation_id=\"gen-1790606306-ezgyzfrwf8AlRbQzSiGe\",input_tokens=4149i,output_tokens=154i," +
  "provider=\"Amazon Bedrock\",reasoning_tokens=15i,total_tokens=4303i 1790606306088358778"

const window = {
  clientOrgId: "default",
  start: DateTime.unsafeMake("2026-09-28T00:00:00Z"),
  end: DateTime.unsafeMake("2026-09-29T00:00:00Z")
}

describe("InfluxDB v2 write and InfluxQL query, against a recorder", () => {
  let recorder: Awaited<ReturnType<typeof startRecorder>>
  let app: TestApp
  let answer: (req: RecordedRequest) => { status: number; body?: string } = () => ({ status: 204 })
  const writes = () => recorder.requests.filter((r) => r.url.startsWith("/api/v2/write"))
  const backlog = () => app.runtime.runPromise(Effect.flatMap(Ledger, (l) => l.backlog()))

  beforeAll(async () => {
    recorder = await startRecorder((req) => answer(req))
    app = await startApp({
      INFLUXDB_URL: recorder.url + "/",
      INFLUXDB_API: "v2",
      INFLUXDB_ORG: "Reseller Sp. z o.o.",
      INFLUXDB_BUCKET: "mai usage&tracking",
      INFLUXDB_TOKEN: TOKEN
    })
  })
  afterAll(async () => {
    await app?.close()
    await recorder?.close()
  })

  it("writes to /api/v2/write with org, bucket, ns precision, the token and the documented line protocol", async () => {
    const res = await postWebhook(app.url, fixture("delivery-privacy-mode.json"))
    expect(res.status).toBe(200)
    await eventually(() => writes().length > 0, 10_000, "a write")
    await eventually(async () => (await backlog()) === 0, 5_000, "the row marked flushed")
    const [write] = writes()
    expect(write.method).toBe("POST")
    const url = new URL(write.url, recorder.url)
    expect(url.pathname).toBe("/api/v2/write")
    expect(Object.fromEntries(url.searchParams)).toEqual({
      org: "Reseller Sp. z o.o.",
      bucket: "mai usage&tracking",
      precision: "ns"
    })
    expect(write.headers.authorization).toBe(`Token ${TOKEN}`)
    expect(write.headers["content-type"]).toBe("text/plain; charset=utf-8")
    expect(write.body).toBe(PRIVACY_LINE)
  })

  it("keeps rows while InfluxDB refuses, never naming the token, and flushes once it accepts", async () => {
    answer = () => ({ status: 401, body: JSON.stringify({ code: "unauthorized", message: "unauthorized access" }) })
    const before = writes().length
    const res = await postWebhook(app.url, fixture("delivery-cached.json"))
    expect(res.status).toBe(200)
    await eventually(() => writes().length > before, 10_000, "a refused write")
    expect(await backlog()).toBe(1)

    const ready = (await (await fetch(`${app.url}/ready`, asAdmin)).json()) as any
    expect(ready.ok).toBe(true)
    expect(ready.checks.outbox.lastError).toMatch(/InfluxDB write: HTTP 401/)
    const failed = await app.runtime.runPromise(Effect.either(Effect.flatMap(UsageStore, (s) => s.ensureComplete(window))))
    expect(Either.isLeft(failed)).toBe(true)
    const message = Either.isLeft(failed) ? failed.left.message : ""
    expect(message).toMatch(/1 events of the window are not in InfluxDB yet .*HTTP 401/)
    for (const text of [JSON.stringify(ready), message, await (await fetch(`${app.url}/metrics`)).text()]) {
      expect(text).not.toContain(TOKEN)
    }

    answer = () => ({ status: 204 })
    await app.runtime.runPromise(Effect.flatMap(UsageStore, (s) => s.ensureComplete(window)))
    expect(await backlog()).toBe(0)
    expect(writes().at(-1)!.body).toContain("generation_id=\"gen-1790606311-fyvbCM5LoYAKzflKyBPD\"")
  })

  it("queries /query with InfluxQL, db, epoch=ns and the token, and reads int64 sums exactly, wrapped past 2^63 or not", async () => {
    answer = (req) =>
      req.url.startsWith("/query")
        ? {
          status: 200,
          body: `{"results":[{"statement_id":0,"series":[{"name":"usage_tracking","tags":{"model":"m/1","user":"ann"},` +
            `"columns":["time","requests","input_tokens","input_tokens_float","output_tokens","output_tokens_float",` +
            `"total_tokens","total_tokens_float","cached_tokens","cached_tokens_float","reasoning_tokens","reasoning_tokens_float",` +
            `"cost_nusd","cost_nusd_float"],` +
            // InfluxDB sums int64 in int64: 9300000000000000003 arrives wrapped modulo 2^64; the float sum locates it.
            `"values":[[1790553600000000000,3,10,10,20,20,30,30,4,4,5,5,-9146744073709551613,9300000000000000000]]}]}]}`
        }
        : { status: 204 }
    const rows = await app.runtime.runPromise(Effect.flatMap(UsageStore, (s) => s.aggregate(window)))
    expect(rows).toEqual([{
      user: "ann",
      model: "m/1",
      requests: 3,
      inputTokens: 10,
      outputTokens: 20,
      totalTokens: 30,
      cachedTokens: 4,
      reasoningTokens: 5,
      costNusd: 9_300_000_000_000_000_003n
    }])
    const query = recorder.requests.filter((r) => r.url.startsWith("/query")).at(-1)!
    expect(query.method).toBe("GET")
    expect(query.headers.authorization).toBe(`Token ${TOKEN}`)
    const params = new URL(query.url, recorder.url).searchParams
    expect(params.get("db")).toBe("mai usage&tracking")
    expect(params.get("epoch")).toBe("ns")
    expect(params.get("q")).toBe(
      `SELECT count("cost_nusd") AS "requests", ` +
        ["input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "cost_nusd"]
          .map((f) => `sum("${f}") AS "${f}", sum("${f}"::float) AS "${f}_float"`).join(", ") +
        ` FROM "usage_tracking" WHERE "client_org_id" = 'default' ` +
        `AND time >= 1790553600000000000 AND time < 1790640000000000000 GROUP BY "user", "model"`
    )
  })

  it("fails the aggregation on an InfluxQL error instead of answering empty", async () => {
    answer = () => ({ status: 200, body: `{"results":[{"statement_id":0,"error":"database not found: mai usage&tracking"}]}` })
    const r = await app.runtime.runPromise(Effect.either(Effect.flatMap(UsageStore, (s) => s.aggregate(window))))
    expect(Either.isLeft(r) && r.left.message).toMatch(/database not found/)
    answer = () => ({ status: 204 })
  })
})

describe("InfluxDB v1 write with user:password", () => {
  it("posts to /write?db=&precision=ns with basic auth", async () => {
    const recorder = await startRecorder()
    const app = await startApp({
      INFLUXDB_URL: recorder.url,
      INFLUXDB_API: "v1",
      INFLUXDB_BUCKET: "usage",
      INFLUXDB_TOKEN: "writer:p@ss:word"
    })
    try {
      await postWebhook(app.url, fixture("delivery-privacy-mode.json"))
      await eventually(() => recorder.requests.some((r) => r.method === "POST"), 10_000, "a write")
      const write = recorder.requests.find((r) => r.method === "POST")!
      const url = new URL(write.url, recorder.url)
      expect(url.pathname).toBe("/write")
      expect(Object.fromEntries(url.searchParams)).toEqual({ db: "usage", precision: "ns" })
      expect(write.headers.authorization).toBe(`Basic ${Buffer.from("writer:p@ss:word").toString("base64")}`)
      expect(write.body).toBe(PRIVACY_LINE)
    } finally {
      await app.close()
      await recorder.close()
    }
  })
})
