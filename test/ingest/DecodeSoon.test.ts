/**
 * A delivery's decoding (its JSON.parse, most of its CPU) waits for the end of the event loop's
 * current round of I/O, so a light request that arrived beside a burst of deliveries (`/health`,
 * `/metrics`) is answered before their parses, not after all of them. Bodies wait for it only up to
 * 128 KB in all; a bigger one is decoded at once (held longer, big bodies cost more in garbage
 * collection than the wait saves). The effect on latency is the benchmark's (docs/benchmarks.md);
 * here, the order: a malformed body's refusal is the decoding's first act, so when it comes tells
 * when the decoding ran.
 */
import { Layer, ManagedRuntime } from "effect"
import { EventEmitter } from "node:events"
import * as Fs from "node:fs"
import type * as Http from "node:http"
import { afterAll, describe, expect, it } from "vitest"
import { Webhook, type WebhookOutcome } from "../../src/ingest/Webhook.js"
import { platformFromMap } from "../../src/platform/PlatformLive.js"
import { LedgerLive } from "../../src/store/StoreLive.js"
import { baseVars, tempDir, WEBHOOK_SECRET } from "../support/app.js"

const dataDir = tempDir()
const runtime = ManagedRuntime.make(
  Webhook.Default.pipe(Layer.provide(LedgerLive), Layer.provide(platformFromMap(baseVars(dataDir))))
)
afterAll(async () => {
  await runtime.dispose()
  Fs.rmSync(dataDir, { recursive: true, force: true })
})

/** One request whose whole body arrives at once; what it was answered, as it comes. */
const deliver = (handle: Webhook["handle"], body: Buffer): Array<WebhookOutcome> => {
  const req = Object.assign(new EventEmitter(), {
    headers: { authorization: `Bearer ${WEBHOOK_SECRET}`, "content-type": "application/json", "content-length": String(body.length) }
  }) as unknown as Http.IncomingMessage
  const outcomes: Array<WebhookOutcome> = []
  handle(req, (o) => outcomes.push(o))
  req.emit("data", body)
  req.emit("end")
  return outcomes
}
const endOfRound = () => new Promise((r) => setImmediate(r))
const refusal = (o: WebhookOutcome | undefined) => (o?._tag === "Refused" ? o.error.message : o?._tag)

describe("a delivery's decoding", () => {
  it("waits for the end of the round of I/O it arrived in", async () => {
    const { handle } = await runtime.runPromise(Webhook)
    const outcomes = deliver(handle, Buffer.from("{not json"))
    expect(outcomes).toEqual([])
    await endOfRound()
    expect(outcomes.map(refusal)).toEqual(["malformed JSON at byte 1"])
  })

  it("is not deferred for a body that would take the waiting bodies over 128 KB, and the budget comes back", async () => {
    const { handle } = await runtime.runPromise(Webhook)
    const big = deliver(handle, Buffer.from(`{"x": "${"a".repeat(200 * 1024)}`))
    expect(big.map(refusal)).toEqual(["malformed JSON at byte 204807"])
    // 6.6 KB bodies, as privacy-mode deliveries: the first ones wait, those past 128 KB do not
    const body = Buffer.from(`{"x": ${" ".repeat(6600)}`)
    const small = Array.from({ length: 30 }, () => deliver(handle, body))
    const atOnce = small.filter((o) => o.length === 1).length
    expect(atOnce).toBe(30 - Math.floor((128 * 1024) / body.length))
    await endOfRound()
    expect(small.every((o) => o.length === 1 && o[0]._tag === "Refused")).toBe(true)
    // every waiting body's bytes were given back: the next one waits again
    const next = deliver(handle, Buffer.from("{not json"))
    expect(next).toEqual([])
    await endOfRound()
    expect(next.length).toBe(1)
  })
})
