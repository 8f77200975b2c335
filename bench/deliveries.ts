/**
 * What the webhook benchmarks send, and how they read a server's CPU time: shared by
 * `bench:webhook` and `bench:image`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(new URL("..", import.meta.url).pathname)

/** The privacy-mode delivery (~6.6 KB of OTLP JSON). */
export const privacy = Fs.readFileSync(Path.join(root, "test/fixtures/openrouter/delivery-privacy-mode.json"), "utf8")

/** A full delivery with prompts: the conversation padded to ~150 KB, as real ones with history are. */
export const full = (() => {
  const d = JSON.parse(Fs.readFileSync(Path.join(root, "test/fixtures/openrouter/delivery-full.json"), "utf8"))
  const span = d.resourceSpans[0].scopeSpans[0].spans[0]
  const prompt = span.attributes.find((a: any) => a.key === "gen_ai.prompt")
  prompt.value.stringValue = prompt.value.stringValue + " lorem ipsum dolor".repeat(8500)
  return JSON.stringify(d)
})()

/** The generation ids in both templates, replaced by a fresh one per request. */
export const GEN_ID = /gen-1790\d+-[A-Za-z0-9]+/g

/**
 * CPU time (user + system) a process has used so far, in µs (Linux /proc): per request, it moves
 * far less with the other load on a shared machine than req/s does.
 */
export const cpuMicros = (pid: number) => {
  const fields = Fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
}

/** How many times one thread of a process has gone to sleep and been woken so far (Linux /proc). */
const threadWakeUps = (pid: number, tid: number | string) =>
  Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(Fs.readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"))![1])

/** How many times a process's main thread (its event loop) has gone to sleep and been woken so far. */
export const wakeUps = (pid: number) => threadWakeUps(pid, pid)

/** Each thread's wake-ups so far (voluntary context switches), by thread id. */
export const allWakeUps = (pid: number): Map<string, number> => {
  const out = new Map<string, number>()
  for (const tid of Fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, threadWakeUps(pid, tid))
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out
}
/** Wake-ups of all a process's threads since `from` (a thread started since counts from 0; one that ended is lost). */
export const wakeUpsSince = (pid: number, from: Map<string, number>) => {
  let n = 0
  for (const [tid, count] of allWakeUps(pid)) n += count - (from.get(tid) ?? 0)
  return n
}

/** Where an idle process's CPU and wake-ups stand now, to count from (`idleText`). */
export const idleReading = (pid: number) => ({ at: performance.now(), cpu: cpuMicros(pid), wakes: wakeUps(pid) })
/** An idle process's CPU and wake-ups from `from` until now, as one line. */
export const idleText = (pid: number, from: ReturnType<typeof idleReading>) => {
  const seconds = (performance.now() - from.at) / 1000
  const cpuMs = (cpuMicros(pid) - from.cpu) / 1000
  const wakes = (wakeUps(pid) - from.wakes) / seconds
  return `CPU ${cpuMs.toFixed(0)} ms in ${seconds.toFixed(0)} s (${(cpuMs / seconds / 10).toFixed(2)} % of a core); the event loop woke ${wakes.toFixed(0)} times a second`
}
