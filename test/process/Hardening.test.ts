/**
 * The review's memory and connection attacks against the real server process: a huge login body
 * on one held connection, a slow-loris connection and a body that never finishes. The server's own
 * RSS (from /proc) stays bounded and /health keeps answering quickly.
 */
import * as Net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WEBHOOK_SECRET } from "../support/app.js"
import { startServeProcess } from "../support/process.js"

let serving: Awaited<ReturnType<typeof startServeProcess>>
let url: string
let port: number

const rssMb = () => serving.rssMb()

const healthMs = async () => {
  const t = performance.now()
  const res = await fetch(url + "/health")
  expect(res.status).toBe(200)
  return performance.now() - t
}

/**
 * Opens a connection, writes `head`, then one more byte a second until the server closes it:
 * how long the server held it, and whatever it answered.
 */
const dripUntilClosed = async (head: string, byte: string) => {
  const socket = Net.connect(port, "127.0.0.1")
  await new Promise<void>((r) => socket.once("connect", () => r()))
  const started = Date.now()
  let answer = ""
  socket.on("data", (d) => (answer += d))
  socket.on("error", () => {})
  const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now() - started)))
  socket.write(head)
  const drip = setInterval(() => socket.writable && socket.write(byte), 1000)
  const ms = await closed
  clearInterval(drip)
  return { ms, answer }
}

beforeAll(async () => {
  serving = await startServeProcess()
  ;({ port, url } = serving)
}, 70_000)

afterAll(() => serving?.stop())

describe("held connections", () => {
  it("a 300 MB chunked login body is cut off early: RSS stays bounded, /health stays fast", async () => {
    await healthMs()
    const before = rssMb()
    const socket = Net.connect(port, "127.0.0.1")
    await new Promise<void>((r) => socket.once("connect", () => r()))
    socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`)
    const chunk = Buffer.alloc(1024 * 1024, "a")
    const frame = Buffer.concat([Buffer.from(chunk.length.toString(16) + "\r\n"), chunk, Buffer.from("\r\n")])
    let sent = 0
    let closed = false
    socket.on("error", () => void (closed = true))
    socket.on("close", () => void (closed = true))
    const deadline = Date.now() + 20_000
    while (!closed && sent < 300 && Date.now() < deadline) {
      if (!socket.write(frame)) await new Promise((r) => setTimeout(r, 5))
      sent++
    }
    const slowest = Math.max(await healthMs(), await healthMs())
    const after = rssMb()
    socket.destroy()
    console.log(`login flood: sent ${sent} MiB, closed=${closed}, RSS ${before.toFixed(0)} → ${after.toFixed(0)} MB, /health ${slowest.toFixed(0)} ms`)
    expect(after - before).toBeLessThan(60)
    expect(slowest).toBeLessThan(1000)
  }, 40_000)

  it("a slow-loris connection (headers one byte a second) is closed after the headers timeout", async () => {
    const { ms } = await dripUntilClosed(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `, "a")
    expect(await healthMs()).toBeLessThan(1000)
    // headersTimeout 10 s, checked every second (Node's default would keep it for 60 s+).
    expect(ms).toBeGreaterThan(8_000)
    expect(ms).toBeLessThan(15_000)
  }, 30_000)

  it("a webhook body dripped a byte a second is cut off by the request timeout (30 s): 408, nothing stored", async () => {
    // Complete, authenticated headers; then the body never arrives in time.
    const { ms, answer } = await dripUntilClosed(
      `POST /api/v1/webhooks/openrouter HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${WEBHOOK_SECRET}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"resourceSpans":[`,
      " "
    )
    expect(await healthMs()).toBeLessThan(1000)
    // requestTimeout 30 s, checked every second; the headers timeout (10 s) does not apply once they are in.
    expect(ms).toBeGreaterThan(28_000)
    expect(ms).toBeLessThan(36_000)
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    const metrics = await (await fetch(url + "/metrics")).text()
    expect(metrics).not.toMatch(/^mai_webhook_events_total\{[^}]*outcome="accepted"[^}]*\} [1-9]/m)
  }, 45_000)
})
