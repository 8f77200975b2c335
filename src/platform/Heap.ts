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
 * first call (~3 MB), so a server that never had traffic never loads it.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as v8 from "node:v8"
import * as vm from "node:vm"

type Gc = (options?: { readonly type: "major"; readonly execution: "sync"; readonly flavor: "last-resort" }) => void
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
const LAST_RESORT = Number(process.versions.node.split(".")[0]) >= 24

/** One full, compacting collection now. Returns false if this V8 does not allow it (nothing else changes). */
export const settleHeap = (): boolean => {
  const gc = collector()
  if (gc === null) return false
  v8.setFlagsFromString("--compact-on-every-full-gc")
  try {
    if (LAST_RESORT) gc({ type: "major", execution: "sync", flavor: "last-resort" })
    else gc()
  } finally {
    v8.setFlagsFromString("--no-compact-on-every-full-gc")
  }
  return true
}

/** Above this, the C heap a start left is worth a `malloc_trim` (and koffi's ~3 MB) at once. */
export const START_TRIM_BYTES = 12 * 1024 * 1024

/** The size of the C heap (glibc's `[heap]`, grown with brk) in a `/proc/PID/maps` text; 0 if none. */
export const cHeapBytes = (maps: string): number => {
  const m = /^([0-9a-f]+)-([0-9a-f]+) [^\n]*\[heap\]$/m.exec(maps)
  return m === null ? 0 : parseInt(m[2], 16) - parseInt(m[1], 16)
}

/**
 * `settleHeap` once, `afterMs` from now (the timer does not keep the process alive). If the start
 * left a big C heap, its free pages are given back too: Node 24 leaves ~18 MB there (12 MB of it
 * free, in holes) where Node 20 leaves ~6 MB, which is not worth loading koffi for.
 */
export const settleHeapSoon = (afterMs = 250): void => {
  setTimeout(() => {
    settleHeap()
    if (cHeapBytes(ownMaps()) > START_TRIM_BYTES) trimMalloc()
  }, afterMs).unref()
}

/** This process's `/proc/self/maps`; empty where there is none (not Linux: no glibc to trim either). */
const ownMaps = (): string => {
  try {
    return readFileSync("/proc/self/maps", "utf8")
  } catch {
    return ""
  }
}

type Trim = (pad: number) => number
/** `malloc_trim` from glibc; null where there is none (musl, macOS) or koffi cannot load. */
let trim: Trim | null | undefined

/** Gives the C heap's free pages back to the system (glibc only). Returns false where it cannot. */
export const trimMalloc = (): boolean => {
  if (trim === undefined) {
    try {
      const koffi = createRequire(import.meta.url)("koffi") as {
        load: (path: string) => { func: (signature: string) => Trim }
      }
      trim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)")
    } catch {
      trim = null
    }
  }
  if (trim === null) return false
  trim(0)
  return true
}

/** What the traffic left, given back once the process has gone idle: the heap's garbage, the C heap's free pages. */
export const releaseIdleMemory = (): void => {
  settleHeap()
  trimMalloc()
}
