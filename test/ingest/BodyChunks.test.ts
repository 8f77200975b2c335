/**
 * A webhook body's chunks are let go once the body is built. `readRaw`'s listeners stay on the
 * request until it is answered, and the answer waits for the ledger's commit: chunks those listeners
 * still held waited with it, a second copy of every body in flight (with 158 KB deliveries at
 * saturation, the process's CPU per request fell by a third without them: docs/benchmarks.md).
 */
import { EventEmitter } from "node:events"
import type * as Http from "node:http"
import { describe, expect, it } from "vitest"
import { readRaw } from "../../src/ingest/Body.js"
import { settleHeap } from "../../src/platform/Heap.js"

const nextTurn = () => new Promise((r) => setTimeout(r, 0))

describe("readRaw", () => {
  it("keeps no chunk once the body is built, while the request (and its listeners) lives on", async () => {
    const req = Object.assign(new EventEmitter(), { headers: {} }) as unknown as Http.IncomingMessage
    let body: Buffer | undefined
    const chunks: Array<WeakRef<Buffer>> = []
    // the chunks are made in a scope of their own, as the socket's reads are
    ;(() => {
      readRaw(req, 1024 * 1024, (r) => {
        if (r.ok) body = r.body
      })
      for (let i = 0; i < 3; i++) {
        const chunk = Buffer.alloc(64 * 1024, i + 1)
        chunks.push(new WeakRef(chunk))
        req.emit("data", chunk)
      }
      req.emit("end")
    })()
    expect(body?.length).toBe(3 * 64 * 1024)
    expect([body![0], body![64 * 1024], body![128 * 1024]]).toEqual([1, 2, 3])
    // a WeakRef's target stays until the current job ends: collect in a later turn
    await nextTurn()
    expect(settleHeap()).toBe(true)
    await nextTurn()
    expect(req.listenerCount("end")).toBe(1)
    expect(chunks.map((c) => c.deref() === undefined)).toEqual([true, true, true])
  })
})
