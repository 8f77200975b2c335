/**
 * The heap after start. Loading the modules, building the layers and running the migrations leave
 * garbage behind, and V8 keeps the pages it grew into: ~30 MB of heap held for ~20 MB live, until
 * V8's memory reducer compacts it some 8 s later (or never, if a request arrives first). One
 * compacting full collection once the server is up gives those pages back at once (a pause of
 * ~20 ms, before any traffic; docs/benchmarks.md has the figures).
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** V8's `gc()`, without starting the process with `--expose-gc` (undefined where V8 refuses it). */
const collector = (): (() => void) | undefined => {
  try {
    v8.setFlagsFromString("--expose-gc")
    const gc: unknown = vm.runInNewContext("gc")
    return typeof gc === "function" ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

/** One full, compacting collection now. Returns false if this V8 does not allow it (nothing else changes). */
export const settleHeap = (): boolean => {
  const gc = collector()
  if (gc === undefined) return false
  v8.setFlagsFromString("--compact-on-every-full-gc")
  try {
    gc()
  } finally {
    v8.setFlagsFromString("--no-compact-on-every-full-gc")
  }
  return true
}

/** `settleHeap` once, `afterMs` from now (the timer does not keep the process alive). */
export const settleHeapSoon = (afterMs = 250): void => {
  setTimeout(settleHeap, afterMs).unref()
}
