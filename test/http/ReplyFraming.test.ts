/**
 * The webhook's replies and `/health` declare their length (`Content-Length`) instead of going out
 * chunked: the sender reads a plain length-framed body, no chunk framing. Checked on the raw
 * HTTP/1.1 response, where the framing shows.
 */
import * as Http from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeRequest } from "../../src/ingest/OtlpCodec.js"
import { startApp, type TestApp, WEBHOOK_SECRET } from "../support/app.js"
import { delivery } from "../support/otlp.js"
import * as Fs from "node:fs"

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app.close()
  Fs.rmSync(app.dataDir, { recursive: true, force: true })
})

interface Raw {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}
const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array) =>
  new Promise<Raw>((resolve, reject) => {
    const req = Http.request(app.url + path, { method, headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on("error", reject)
    req.end(body)
  })

const lengthFramed = (r: Raw) => {
  expect(r.headers["transfer-encoding"]).toBeUndefined()
  expect(Number(r.headers["content-length"])).toBe(r.body.length)
  expect(r.body.length).toBeGreaterThan(0)
}

describe("replies declare their length", () => {
  const auth = { authorization: `Bearer ${WEBHOOK_SECRET}` }
  it("a stored JSON delivery's 200", async () => {
    const r = await raw("POST", "/api/v1/webhooks/openrouter", { ...auth, "content-type": "application/json" }, delivery({ generationId: "gen-frame-1" }))
    expect(r.status).toBe(200)
    lengthFramed(r)
    expect(JSON.parse(r.body.toString())).toMatchObject({ accepted: 1 })
  })

  it("a refused delivery's 400 and 401", async () => {
    const bad = await raw("POST", "/api/v1/webhooks/openrouter", { ...auth, "content-type": "application/json" }, "{not json")
    expect(bad.status).toBe(400)
    lengthFramed(bad)
    const unauthorized = await raw("POST", "/api/v1/webhooks/openrouter", { "content-type": "application/json" }, "{}")
    expect(unauthorized.status).toBe(401)
    lengthFramed(unauthorized)
  })

  it("a protobuf delivery's binary 200, whose length counts bytes", async () => {
    const body = encodeRequest(JSON.parse(delivery({ generationId: "gen-frame-2" })))
    const r = await raw("POST", "/v1/traces", { ...auth, "content-type": "application/x-protobuf" }, body)
    expect(r.status).toBe(200)
    expect(r.headers["transfer-encoding"]).toBeUndefined()
    // a full success is an empty ExportTraceServiceResponse: zero bytes, declared as such
    expect(Number(r.headers["content-length"])).toBe(r.body.length)
  })

  it("/health, to GET and to HEAD", async () => {
    const get = await raw("GET", "/health")
    expect(get.status).toBe(200)
    lengthFramed(get)
    const head = await raw("HEAD", "/health")
    expect(head.headers["transfer-encoding"]).toBeUndefined()
    expect(Number(head.headers["content-length"])).toBe(get.body.length)
  })
})
