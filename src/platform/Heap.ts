/**
 * The heap after start. Loading the modules, building the layers and running the migrations leave
 * garbage behind, and V8 keeps the pages it grew into: ~30 MB of heap held for ~20 MB live, until
 * V8's memory reducer compacts it some 8 s later (or never, if a request arrives first). One
 * compacting full collection once the server is up gives those pages back at once (a pause of
 * ~20 ms, before any traffic; docs/benchmarks.md has the figures).
 *
 * After traffic, most of what an idle server still holds is the C allocator's: glibc returns only
 * the top of its heap by itself, and request buffers of every size leave the rest in holes (after a
 * burst of 158 KB deliveries, 32 MB taken from the system for 6 MB in use). `trimMalloc` asks glibc
 * for those pages back (`malloc_trim`), through koffi, a C FFI with prebuilt binaries, loaded on the
 * first call (~3 MB).
 *
 * RSS also counts the node binary's pages that starting (or a burst) touched: 44 MB of Node 20's,
 * 54 MB of Node 24's, most of them code that an idle server does not run again (the compiler's,
 * the module loader's). `releaseCodePages` unmaps them (`madvise(MADV_DONTNEED)` on the binary's
 * read-only mappings, which hold nothing but the file's own bytes): they stay in the page cache,
 * which the kernel may reclaim, and come back at a minor fault each when they are run again.
 *
 * Under deliveries of 158 KB, Node 24's V8 no longer collects its young generation for the
 * ArrayBuffers behind request bodies (Node 20's does): dead Buffers piled up to 57 MB and the C
 * heap to 64 MB. `noteBodyBytes` runs a young-generation collection every `YOUNG_GC_BYTES` of
 * bodies read, there only.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as v8 from "node:v8"
import * as vm from "node:vm"

type Gc = (options?: { readonly type: "major" | "minor"; readonly execution?: "sync"; readonly flavor?: "last-resort" }) => void
let gcFunction: Gc | null | undefined
/** V8's `gc()`, without starting the process with `--expose-gc` (null where V8 refuses it); made once. */
const collector = (): Gc | null => {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc")
      const gc: unknown = vm.runInNewContext("gc")
      gcFunction = typeof gc === "function" ? (gc as Gc) : null
    } catch {
      gcFunction = null
    }
  }
  return gcFunction
}

/**
 * Node 24's V8 keeps the pages a collection frees in a pool (16 MB of them after a burst), handed
 * back to the system only by a later memory-reducing collection, which an idle server may never
 * run. There the collection is V8's "last resort" one, which also empties the pool: measured in the
 * image, idle after a burst 117 → 99 MB. Node 20's V8 has no pool, and the same call left 5 MB more
 * than a plain `gc()` after a burst (84 → 89 MB), so there it stays `gc()`.
 */
const NODE_MAJOR = Number(process.versions.node.split(".")[0])
const LAST_RESORT = NODE_MAJOR >= 24

/** One full, compacting collection now. Returns false if this V8 does not allow it (nothing else changes). */
export const settleHeap = (): boolean => {
  const gc = collector()
  if (gc === null) return false
  // Dead Buffers' memory is freed by this collection, not later on a background thread: a
  // `trimMalloc` right after finds their holes (on a busy machine it missed half of them).
  v8.setFlagsFromString("--compact-on-every-full-gc")
  v8.setFlagsFromString("--no-concurrent-array-buffer-sweeping")
  try {
    if (LAST_RESORT) gc({ type: "major", execution: "sync", flavor: "last-resort" })
    else gc()
  } finally {
    v8.setFlagsFromString("--concurrent-array-buffer-sweeping")
    v8.setFlagsFromString("--no-compact-on-every-full-gc")
  }
  return true
}

/**
 * `releaseIdleMemory` once, `afterMs` from now (the timer does not keep the process alive): what the
 * start left. A start leaves ~18 MB of C heap on Node 24 (12 MB of it free, in holes; ~6 MB on
 * Node 20) and 44–54 MB of the binary's pages touched.
 */
export const settleHeapSoon = (afterMs = 250): void => {
  setTimeout(releaseIdleMemory, afterMs).unref()
}

type Libc = {
  readonly mallocTrim: (pad: number) => number
  readonly madvise: (address: number, length: number, advice: number) => number
}
/** glibc's `malloc_trim` and `madvise`; null where there is no glibc (musl, macOS) or koffi cannot load. */
let libcFunctions: Libc | null | undefined
const libc = (): Libc | null => {
  if (libcFunctions === undefined) {
    try {
      const koffi = createRequire(import.meta.url)("koffi") as {
        load: (path: string) => { func: (signature: string) => (...args: Array<number>) => number }
      }
      const lib = koffi.load("libc.so.6")
      libcFunctions = {
        mallocTrim: lib.func("int malloc_trim(size_t pad)"),
        madvise: lib.func("int madvise(uintptr_t addr, size_t length, int advice)")
      }
    } catch {
      libcFunctions = null
    }
  }
  return libcFunctions
}

/** Gives the C heap's free pages back to the system (glibc only). Returns false where it cannot. */
export const trimMalloc = (): boolean => {
  const c = libc()
  if (c === null) return false
  c.mallocTrim(0)
  return true
}

/** One mapping of a `/proc/PID/smaps` text: where, and how much of it is resident. */
export interface CodeMapping {
  readonly start: number
  readonly end: number
  readonly residentBytes: number
}

/**
 * The mappings of `file` in a `/proc/PID/smaps` text that may be unmapped and read again from the
 * file: not writable, and with no page of their own (`Anonymous: 0`, so nothing was copied on
 * write, as relocations are). Anything else (a writable `.data`, another file, a deleted binary) is
 * left alone.
 */
export const codeMappings = (smaps: string, file: string): Array<CodeMapping> => {
  const found: Array<CodeMapping> = []
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ +(.*)$/m.exec(block)
    if (head === null || head[4] !== file || head[3][1] !== "-") continue
    const anonymous = /^Anonymous:\s+(\d+) kB$/m.exec(block)
    const rss = /^Rss:\s+(\d+) kB$/m.exec(block)
    if (anonymous === null || rss === null || anonymous[1] !== "0") continue
    found.push({ start: parseInt(head[1], 16), end: parseInt(head[2], 16), residentBytes: Number(rss[1]) * 1024 })
  }
  return found
}

const MADV_DONTNEED = 4

/**
 * Unmaps the node binary's code and read-only data (`codeMappings`): the pages stay in the page
 * cache and come back at a minor fault each when they are used. Returns the resident bytes let go,
 * or -1 where it cannot (no `/proc`, no glibc).
 */
export const releaseCodePages = (): number => {
  let smaps: string
  try {
    smaps = readFileSync("/proc/self/smaps", "utf8")
  } catch {
    return -1
  }
  const c = libc()
  if (c === null) return -1
  let released = 0
  for (const m of codeMappings(smaps, process.execPath)) {
    if (c.madvise(m.start, m.end - m.start, MADV_DONTNEED) === 0) released += m.residentBytes
  }
  return released
}

/**
 * What the process holds and an idle server does not use, given back: the heap's garbage, the C
 * heap's free pages, the binary's code pages. After the start, and once traffic has ended.
 */
export const releaseIdleMemory = (): void => {
  settleHeap()
  trimMalloc()
  releaseCodePages()
}

/** Bytes of request bodies between two young-generation collections (Node 24; `noteBodyBytes`). */
export const YOUNG_GC_BYTES = 2 * 1024 * 1024

/** Calls `collect` once every `everyBytes` of what it is told. */
export const everyBytes = (bytes: number, collect: () => void): ((read: number) => void) => {
  let since = 0
  return (read) => {
    since += read
    if (since < bytes) return
    since = 0
    collect()
  }
}

/** One young-generation collection now (a scavenge: ~0.3 ms with a 2 MB semi-space). False where V8 refuses it. */
export const collectYoung = (): boolean => {
  const gc = collector()
  if (gc === null) return false
  gc({ type: "minor" })
  return true
}

/** `noteBodyBytes` for a Node major version: a young collection every YOUNG_GC_BYTES from 24 on, nothing before. */
export const bodyBytesNoter = (nodeMajor: number, collect: () => void = collectYoung): ((bytes: number) => void) =>
  nodeMajor >= 24 ? everyBytes(YOUNG_GC_BYTES, collect) : () => {}

/**
 * Tells the heap that `bytes` of request body were read (and copied once, if in pieces). On Node 24
 * a young-generation collection follows every YOUNG_GC_BYTES: the Buffers of the bodies answered by
 * then are freed with it, instead of waiting for a full collection. Measured with 158 KB deliveries
 * on the image's Node 24 (docs/benchmarks.md): dead Buffers 17–57 → 1–3 MB, peak RSS ~190 →
 * ~115 MB, and more deliveries per second (1,300 → 1,900: fewer full collections). Node 20's V8
 * collects them by itself; there this does nothing.
 */
export const noteBodyBytes: (bytes: number) => void = bodyBytesNoter(NODE_MAJOR)
