/**
 * Against the real server process: the HMAC signature covers the raw bytes as received and is
 * checked before anything is decompressed, so unauthenticated gzip bombs cost at most their raw
 * size; and no log line or reply ever quotes body content.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Zlib from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseVars, tempDir, WEBHOOK_SECRET } from "../support/app.js"
import { delivery } from "../support/otlp.js"
import { bareEnv, freePort, type Running, spawnCli, waitForHealth } from "../support/process.js"

let server: Running
let url: string
let dataDir: string

beforeAll(async () => {
  dataDir = tempDir("mai-rawbytes-")
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  server = spawnCli(["serve"], { ...bareEnv(), ...baseVars(dataDir), PORT: String(port) })
  await waitForHealth(url, server, 30_000)
}, 40_000)

afterAll(async () => {
  server.child.kill("SIGTERM")
  await server.exited
  Fs.rmSync(dataDir, { recursive: true, force: true })
})

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${server.child.pid}/status`, "utf8"))![1]) / 1024

/** A POST on its own connection (no keep-alive pooling), resolving with status and body text. */
const post = (body: Buffer | string, headers: Record<string, string>) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = Http.request(url + "/api/v1/webhooks/openrouter", {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers }
    }, (res) => {
      let text = ""
      res.on("data", (d) => (text += d))
      res.on("end", () => resolve({ status: res.statusCode!, text }))
    })
    req.on("error", reject)
    req.end(body)
  })

const hmac = (data: Buffer | string) => `sha256=${Crypto.createHmac("sha256", WEBHOOK_SECRET).update(data).digest("hex")}`

describe("HMAC over the raw bytes, before decompression", () => {
  it("a signature over the gzip bytes as sent is authentic; one over the decompressed body is not", async () => {
    const plain = delivery({ generationId: "gen-raw-hmac-1" })
    const gz = Zlib.gzipSync(plain)
    const ok = await post(gz, { "content-encoding": "gzip", "x-webhook-signature": hmac(gz) })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.text)).toMatchObject({ accepted: 1 })
    const gz2 = Zlib.gzipSync(delivery({ generationId: "gen-raw-hmac-2" }))
    const wrong = await post(gz2, { "content-encoding": "gzip", "x-webhook-signature": hmac(Zlib.gunzipSync(gz2)) })
    expect(wrong.status).toBe(401)
  })

  it("gzip bombs with a bogus signature on many connections: 401, RSS stays bounded, /health answers quickly", async () => {
    // 32 MiB of spaces in ~32 KB: what the old code inflated before looking at the signature.
    const bomb = Zlib.gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x20), { level: 9 })
    expect(bomb.length).toBeLessThan(64 * 1024)
    const before = rssMb()
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20)
    try {
      for (let round = 0; round < 3; round++) {
        const replies = await Promise.all(Array.from({ length: 10 }, (_, i) =>
          post(bomb, {
            authorization: "",
            "content-encoding": "gzip",
            "x-webhook-signature": i % 2 === 0 ? "sha256=00" : `sha256=${"ab".repeat(32)}`
          })
        ))
        for (const r of replies) expect(r.status).toBe(401)
      }
    } finally {
      clearInterval(sampler)
    }
    // Ten inflated bodies would be 320 MiB; the raw bytes are under 1 MiB in all.
    expect(peak - before).toBeLessThan(60)
    const started = Date.now()
    const health = await fetch(url + "/health")
    expect(health.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(1_000)
  }, 60_000)
})

describe("no body content in logs or replies", () => {
  const MARKER = "PROMPT-MARKER-do-not-log-4b7e9"

  it("parse errors and rejected spans never quote the body", async () => {
    const headers = { authorization: `Bearer ${WEBHOOK_SECRET}` }
    const proto = { ...headers, "content-type": "application/x-protobuf" }
    const markerBytes = Buffer.from(MARKER)
    const withPrompt = JSON.parse(delivery({ generationId: "gen-marker-1" }))
    const root = withPrompt.resourceSpans[0].scopeSpans[0].spans[0]
    root.attributes.push({ key: "gen_ai.prompt", value: { stringValue: `tell me about ${MARKER}` } })
    root.attributes.find((a: any) => a.key === "gen_ai.usage.total_cost").value = { stringValue: MARKER }
    const cases: Array<[Buffer | string, Record<string, string>, number]> = [
      [`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"${MARKER}" ${MARKER}`, headers, 400],
      [`${MARKER} is not JSON`, headers, 400],
      [`{"resourceSpans":[{"scopeSpans":[{"spans":["${MARKER}"]}]}]}`, headers, 400],
      [Buffer.concat([Buffer.from([0x0a, markerBytes.length + 4]), Buffer.from([0x12, 0xff]), markerBytes]), proto, 400],
      [Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), markerBytes]), { ...headers, "content-encoding": "gzip" }, 400],
      [JSON.stringify(withPrompt), headers, 200]
    ]
    for (const [body, h, status] of cases) {
      const r = await post(body, h)
      expect(r.status).toBe(status)
      expect(r.text).not.toContain(MARKER)
    }
    await new Promise((r) => setTimeout(r, 300))
    const logs = server.stdout() + server.stderr()
    // The refusals and the rejection were logged (so this looks at real log lines)…
    expect(logs).toContain("webhook request refused")
    expect(logs).toContain("webhook spans rejected")
    // …without any fragment of the body.
    expect(logs).not.toContain(MARKER)
    expect(logs).not.toContain("PROMPT-MARKER")
  })
})
