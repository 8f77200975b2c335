/**
 * The heap once serve is up: one full, compacting collection gives back the garbage of starting
 * (platform/Heap.ts). Measured by the benchmark (idle RSS); here, that the collection really runs
 * and frees what is no longer reachable; and that the C heap's free pages go back to the system
 * (glibc's malloc_trim, which Linux here has).
 */
import { constants, PerformanceObserver } from "node:perf_hooks"
import * as v8 from "node:v8"
import { describe, expect, it } from "vitest"
import * as Fs from "node:fs"
import { cHeapBytes, settleHeap, START_TRIM_BYTES, trimMalloc } from "../../src/platform/Heap.js"

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

describe("trimMalloc", () => {
  it("gives the C heap's free pages back: RSS falls once freed buffers leave holes behind", () => {
    const rss = () => process.memoryUsage.rss()
    // Buffers' memory comes from the C heap. Keep every third one, so what is freed is in holes that
    // glibc does not give back by itself (as a burst of deliveries leaves it).
    let all: Array<Buffer> | undefined = Array.from({ length: 30_000 }, (_, i) => Buffer.alloc(3_000 + (i % 7) * 100, 1))
    const kept = all.filter((_, i) => i % 3 === 0)
    all = undefined
    settleHeap()
    const before = rss()
    expect(trimMalloc()).toBe(true)
    const after = rss()
    expect(kept.length).toBe(10_000)
    expect(before - after).toBeGreaterThan(8 * 1024 * 1024)
    // a second call finds nothing more to give back, and works as well
    expect(trimMalloc()).toBe(true)
  })
})

describe("cHeapBytes (whether a start's C heap is worth a trim at once)", () => {
  it("is the size of the [heap] mapping in a maps text, 0 without one", () => {
    const maps = [
      "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/node",
      "55fb7d0ce000-55fb7e2ce000 rw-p 00000000 00:00 0                          [heap]",
      "7f2c1a000000-7f2c1a021000 rw-p 00000000 00:00 0 ",
      "7ffc4d5e0000-7ffc4d601000 rw-p 00000000 00:00 0                          [stack]"
    ].join("\n")
    expect(cHeapBytes(maps)).toBe(0x55fb7e2ce000 - 0x55fb7d0ce000)
    expect(cHeapBytes(maps)).toBeGreaterThan(START_TRIM_BYTES) // 18 MB, as Node 24 leaves it
    expect(cHeapBytes(maps.replace("[heap]", ""))).toBe(0)
    expect(cHeapBytes("")).toBe(0)
  })

  it("reads this process's own maps", () => {
    expect(cHeapBytes(Fs.readFileSync("/proc/self/maps", "utf8"))).toBeGreaterThan(0)
  })
})
