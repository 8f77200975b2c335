/**
 * Doors before the body, against the real server process: a malformed or missing signature is
 * refused before the body is read; bodies read only to check a signature are a few at a time (then
 * 503 with Retry-After); every early answer (401, 413, 503) reaches the sender, never a reset. The
 * server's RSS is read from /proc.
 */
import * as Http from "node:http"
import * as Net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WEBHOOK_SECRET } from "../support/app.js"
import { startServeProcess } from "../support/process.js"

const MAX = 4 * 1024 * 1024
let process_: Awaited<ReturnType<typeof startServeProcess>>
let port: number
const rssMb = () => process_.rssMb()


/** POSTs `size` bytes to the webhook with `headers`; the status, or the error the connection ended with. */
const post = (size: number, headers: Record<string, string>) =>
  new Promise<{ status?: number; error?: string }>((resolve) => {
    const req = Http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/v1/webhooks/openrouter", agent: false, headers: {
      "content-type": "application/json",
      "content-length": String(size),
      ...headers
    } }, (res) => {
      res.resume()
      res.on("end", () => resolve({ status: res.statusCode }))
      res.on("error", (e) => resolve({ status: res.statusCode, error: (e as NodeJS.ErrnoException).code ?? e.message }))
    })
    // A reset or a broken pipe while sending: the sender may not see the answer at all.
    req.on("error", (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    const chunk = Buffer.alloc(256 * 1024, 0x20)
    let left = size
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length)
        left -= n
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump)
      }
      req.end()
    }
    pump()
  })

beforeAll(async () => {
  process_ = await startServeProcess({ MAX_BODY_BYTES: String(MAX) })
  port = process_.port
}, 70_000)
afterAll(() => process_?.stop())

describe("doors before the body", () => {
  it("a malformed signature is refused unread: 8 × 4 MiB posts cost the server no memory", async () => {
    const before = rssMb()
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(MAX, { "x-webhook-signature": "sha256=bad" })))
    expect(answers).toEqual(Array.from({ length: 8 }, () => ({ status: 401 })))
    expect(rssMb() - before).toBeLessThan(20)
  })

  it("bodies read to check a signature are at most 4 at a time: the others get 503 with Retry-After at once", async () => {
    // Eight senders with well-formed (wrong) signatures hold their bodies half-sent.
    const sockets = await Promise.all(Array.from({ length: 8 }, async () => {
      const socket = Net.connect(port, "127.0.0.1")
      await new Promise<void>((r) => socket.once("connect", () => r()))
      let answer = ""
      socket.on("data", (d) => (answer += d))
      socket.on("error", () => {})
      socket.write(
        "POST /api/v1/webhooks/openrouter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${MAX}\r\nX-Webhook-Signature: sha256=${"0".repeat(64)}\r\n\r\n` + " ".repeat(1024)
      )
      return { socket, answer: () => answer }
    }))
    await new Promise((r) => setTimeout(r, 1_000))
    const refused = sockets.filter((s) => s.answer().startsWith("HTTP/1.1 503"))
    expect(refused).toHaveLength(4)
    for (const s of refused) expect(s.answer()).toMatch(/\r\nretry-after: \d+\r\n/i)
    // The four being read finish their bodies: each gets its 401.
    const held = sockets.filter((s) => s.answer() === "")
    expect(held).toHaveLength(4)
    for (const s of held) s.socket.write(" ".repeat(MAX - 1024))
    const deadline = Date.now() + 10_000
    while (held.some((s) => !s.answer().startsWith("HTTP/1.1 401")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(held.map((s) => s.answer().slice(0, 12))).toEqual(Array.from({ length: 4 }, () => "HTTP/1.1 401"))
    for (const s of sockets) s.socket.destroy()
  })

  it("an early answer is delivered, never a reset: 30 bodies of twice the limit all get their 413", async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(2 * MAX, { authorization: `Bearer ${WEBHOOK_SECRET}` })))
    expect(answers.filter((a) => a.status !== 413 || a.error !== undefined)).toEqual([])
    const chunked = await Promise.all(Array.from({ length: 10 }, () => post(0, {})))
    expect(chunked.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 401))
  })
})
