/**
 * The heap once serve is up: one full, compacting collection gives back the garbage of starting
 * (platform/Heap.ts). Measured by the benchmark (idle RSS); here, that the collection really runs
 * and frees what is no longer reachable.
 */
import { constants, PerformanceObserver } from "node:perf_hooks"
import * as v8 from "node:v8"
import { describe, expect, it } from "vitest"
import { settleHeap } from "../../src/platform/Heap.js"

describe("settleHeap", () => {
  it("runs a full collection that frees what starting left behind", async () => {
    const kinds: Array<number> = []
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind)
    })
    observer.observe({ entryTypes: ["gc"] })
    // garbage like a start's: ~30 MB of objects, reachable for a while, then dropped
    let garbage: Array<{ n: number; s: string }> | undefined = Array.from({ length: 300_000 }, (_, n) => ({ n, s: `row ${n}` }))
    expect(garbage.length).toBe(300_000)
    garbage = undefined
    const before = v8.getHeapStatistics().used_heap_size
    expect(settleHeap()).toBe(true)
    const after = v8.getHeapStatistics().used_heap_size
    // the entries are delivered asynchronously
    await new Promise((r) => setTimeout(r, 50))
    observer.disconnect()
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MAJOR)
    expect(before - after).toBeGreaterThan(10 * 1024 * 1024)
  })
})
