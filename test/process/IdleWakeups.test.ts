/**
 * An idle server sleeps. A client's container has no traffic most of the day (nights, weekends)
 * and an operator runs hundreds of them, so what an idle server does with no request is paid
 * everywhere all the time. prom-client's event-loop delay histogram, left at its 10 ms default,
 * woke the event loop 100 times a second for ever (docs/benchmarks.md); it samples every 100 ms.
 *
 * Counted, not timed: the main thread's voluntary context switches (/proc), each one a sleep the
 * event loop was woken from, over a few idle seconds of the production build.
 */
import * as Fs from "node:fs"
import { describe, expect, it } from "vitest"
import { ADMIN_TOKEN } from "../support/app.js"
import { startServeProcess } from "../support/process.js"

const wakeUps = (pid: number) =>
  Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(Fs.readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8"))![1])
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("an idle server", () => {
  it("wakes its event loop a few times a second, not a hundred, and still samples the loop's delay", async () => {
    const app = await startServeProcess()
    try {
      const pid = app.server.child.pid!
      await sleep(1_500) // past the start's own work (the heap settled 250 ms after start)
      const before = wakeUps(pid)
      await sleep(4_000)
      const perSecond = (wakeUps(pid) - before) / 4
      // ~11 a second here: ten of the delay histogram's, and the one-second timers (the outbox,
      // Node's check for overdue requests). With the 10 ms default it was ~100.
      expect(perSecond).toBeLessThan(40)

      const metrics = await (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()
      const p50 = Number(/^nodejs_eventloop_lag_p50_seconds (\S+)$/m.exec(metrics)?.[1])
      // the histogram records the time between its samples: ~0.1 s when the loop is not held up
      expect(p50).toBeGreaterThanOrEqual(0.09)
      expect(p50).toBeLessThan(0.5)
    } finally {
      await app.stop()
    }
  }, 60_000)
})
