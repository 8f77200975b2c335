/**
 * The heap once serve is up: one full, compacting collection gives back the garbage of starting
 * (platform/Heap.ts). Measured by the benchmark (idle RSS); here, that the collection really runs
 * and frees what is no longer reachable; and that the C heap's free pages go back to the system
 * (glibc's malloc_trim, which Linux here has).
 */
import { constants, PerformanceObserver } from "node:perf_hooks"
import * as v8 from "node:v8"
import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import {
  bodyBytesNoter,
  codeMappings,
  collectYoung,
  everyBytes,
  releaseCodePages,
  settleHeap,
  trimMalloc,
  YOUNG_GC_BYTES
} from "../../src/platform/Heap.js"

/** Performance entries are delivered asynchronously: waits for one of `kind` (at most 5 s, on a busy machine). */
const gcEntry = async (kinds: ReadonlyArray<number>, kind: number) => {
  for (let waited = 0; !kinds.includes(kind) && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10))
}

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
    await gcEntry(kinds, constants.NODE_PERFORMANCE_GC_MAJOR)
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
    const keptBytes = kept.reduce((n, b) => n + b.length, 0)
    all = undefined
    settleHeap()
    // the collection has freed the dead Buffers' memory itself (V8 would otherwise do it later, on a
    // background thread, and a trim right after would find fewer holes): only the kept ones are left
    expect(process.memoryUsage().arrayBuffers).toBeLessThan(keptBytes + 8 * 1024 * 1024)
    const before = rss()
    expect(trimMalloc()).toBe(true)
    const after = rss()
    expect(kept.length).toBe(10_000)
    expect(before - after).toBeGreaterThan(8 * 1024 * 1024)
    // a second call finds nothing more to give back, and works as well
    expect(trimMalloc()).toBe(true)
  })
})

/** The resident bytes of this process's own node binary, from its smaps. */
const binaryResident = () => {
  let kb = 0
  for (const block of Fs.readFileSync("/proc/self/smaps", "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (!block.split("\n")[0].endsWith(` ${process.execPath}`)) continue
    kb += Number(/^Rss:\s+(\d+) kB$/m.exec(block)?.[1] ?? 0)
  }
  return kb * 1024
}

describe("codeMappings (which of the binary's pages may be unmapped)", () => {
  const block = (range: string, perms: string, path: string, rssKb: number, anonymousKb: number) =>
    [
      `${range} ${perms} 00000000 08:02 173521                     ${path}`,
      `Size:              40960 kB`,
      `Rss:               ${rssKb} kB`,
      `Pss:               ${rssKb} kB`,
      `Anonymous:         ${anonymousKb} kB`,
      `VmFlags: rd ex mr mw me`
    ].join("\n")
  const smaps = [
    block("00400000-0074d000", "r--p", "/usr/local/bin/node", 3380, 0),
    block("0074d000-03081000", "r-xp", "/usr/local/bin/node", 31696, 0),
    // relocated, then made read-only: its pages are the process's own, never re-read from the file
    block("06b83000-06b87000", "r--p", "/usr/local/bin/node", 16, 16),
    block("06b87000-06bae000", "rw-p", "/usr/local/bin/node", 100, 40),
    block("7f859ee00000-7f859ee99000", "r-xp", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", 612, 0),
    block("7f8560000000-7f8580000000", "rw-p", "", 1304, 1304)
  ].join("\n")

  it("keeps the binary's read-only mappings that hold only the file's bytes", () => {
    expect(codeMappings(smaps, "/usr/local/bin/node")).toEqual([
      { start: 0x400000, end: 0x74d000, residentBytes: 3380 * 1024 },
      { start: 0x74d000, end: 0x3081000, residentBytes: 31696 * 1024 }
    ])
  })

  it("leaves everything else alone: other files, writable or copied pages, a deleted binary", () => {
    expect(codeMappings(smaps, "/usr/bin/node")).toEqual([])
    expect(codeMappings(smaps.replaceAll("/usr/local/bin/node", "/usr/local/bin/node (deleted)"), "/usr/local/bin/node")).toEqual([])
    expect(codeMappings(smaps.replace(/^Anonymous: +0 kB$/gm, "Anonymous:         4 kB"), "/usr/local/bin/node")).toEqual([])
    expect(codeMappings("", "/usr/local/bin/node")).toEqual([])
  })

  it("finds this process's own binary", () => {
    const own = codeMappings(Fs.readFileSync("/proc/self/smaps", "utf8"), process.execPath)
    expect(own.length).toBeGreaterThan(0)
    expect(own.reduce((n, m) => n + m.residentBytes, 0)).toBeGreaterThan(1024 * 1024)
  })
})

describe("releaseCodePages", () => {
  it("lets go of the binary's resident code, which comes back as it runs, and the process goes on", () => {
    const before = binaryResident()
    const released = releaseCodePages()
    const after = binaryResident()
    expect(released).toBeGreaterThan(5 * 1024 * 1024)
    expect(before - after).toBeGreaterThan(5 * 1024 * 1024)
    // the code runs as before: parsing, regular expressions, a collection, crypto
    const parsed = JSON.parse(JSON.stringify({ n: 1, s: "zażółć" })) as { s: string }
    expect(parsed.s).toBe("zażółć")
    expect(/ż(ó)ł/.exec(parsed.s)?.[1]).toBe("ó")
    expect(settleHeap()).toBe(true)
    expect(createHash("sha256").update("a").digest("hex")).toBe(
      "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    )
  })
})

describe("young collections for request bodies (Node 24)", () => {
  it("everyBytes calls once per threshold of what it is told", () => {
    let calls = 0
    const note = everyBytes(1000, () => calls++)
    note(400)
    note(500)
    expect(calls).toBe(0)
    note(100)
    expect(calls).toBe(1)
    note(999)
    expect(calls).toBe(1)
    note(5000)
    expect(calls).toBe(2)
  })

  it("collects every YOUNG_GC_BYTES of bodies from Node 24 on, never before", () => {
    let on24 = 0
    let on20 = 0
    const note24 = bodyBytesNoter(24, () => on24++)
    const note20 = bodyBytesNoter(20, () => on20++)
    for (let i = 0; i < 80; i++) {
      note24(YOUNG_GC_BYTES / 8)
      note20(YOUNG_GC_BYTES / 8)
    }
    expect(on24).toBe(10)
    expect(on20).toBe(0)
  })

  it("collectYoung runs a young-generation collection", async () => {
    const kinds: Array<number> = []
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind)
    })
    observer.observe({ entryTypes: ["gc"] })
    expect(collectYoung()).toBe(true)
    await gcEntry(kinds, constants.NODE_PERFORMANCE_GC_MINOR)
    observer.disconnect()
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR)
  })
})
