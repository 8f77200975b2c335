/**
 * One run at a time across processes: two `DailyBatch` instances (each with its own semaphore and
 * lock owner, as two processes have) over the same ledger and summary DB files, NBP slowed down
 * so that runs overlap if nothing stops them. Real clock: the intervals are measured.
 */
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Duration, Effect, Either, Layer } from "effect"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { DailyBatch } from "../../src/billing/DailyBatch.js"
import { SummaryRepo } from "../../src/billing/SummaryRepo.js"
import { Ledger } from "../../src/store/Ledger.js"
import { tempDir } from "../support/app.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { usageEvent } from "../support/usageEvent.js"
import { processBatch, vars } from "./support.js"

let nbp: NbpStandIn
beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-12-31" })
})
afterAll(() => nbp.close())

const days = ["2025-11-03", "2025-11-04", "2025-11-05", "2025-11-06"]

const twoProcesses = (dataDir: string, lockWait: Duration.DurationInput = "30 seconds") =>
  Effect.gen(function*() {
    const a = yield* Layer.build(processBatch(vars(dataDir, nbp.url), { lockWait }))
    const b = yield* Layer.build(processBatch(vars(dataDir, nbp.url), { lockWait }))
    yield* Context.get(a, Ledger).record(days.map((d) => usageEvent({ at: `${d}T10:00:00.000Z`, user: "anna", model: "m1", cost: "1" })))
    return { a: Context.get(a, DailyBatch), b: Context.get(b, DailyBatch), repo: Context.get(a, SummaryRepo) }
  })

describe("one batch run at a time", () => {
  it.live("runs from two processes and from two triggers of one process never overlap", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      const { a, b, repo } = yield* twoProcesses(dataDir)
      nbp.setDelay(150)
      yield* Effect.addFinalizer(() => Effect.sync(() => nbp.setDelay(0)))
      // Process A: the scheduler and the API at once; process B: a CLI; all on overlapping days.
      const outcomes = yield* Effect.all(
        [
          a.run(days[0], "schedule"),
          a.run(days[1], "api"),
          b.run(days[1], "cli"),
          b.run(days[2], "cli"),
          a.run(days[3], "api"),
          b.run(days[3], "cli")
        ],
        { concurrency: "unbounded", mode: "either" }
      )
      expect(outcomes.every(Either.isRight)).toBe(true)
      const runs = [...(yield* repo.listRuns(100))].sort((x, y) => x.startedAt.localeCompare(y.startedAt))
      expect(runs).toHaveLength(6)
      for (let i = 1; i < runs.length; i++) {
        // Each run starts only after the previous one finished.
        expect(runs[i].startedAt >= runs[i - 1].finishedAt!, `${runs[i - 1].id} then ${runs[i].id}`).toBe(true)
      }
      // Both processes did take turns.
      expect(new Set(runs.map((r) => r.trigger))).toEqual(new Set(["schedule", "api", "cli"]))
      // Re-running a day from the other process found the rows unchanged.
      const second = runs.filter((r) => r.usageDate === days[1] || r.usageDate === days[3])
      expect(second.map((r) => r.corrections)).toEqual([0, 0, 0, 0])
    }).pipe(Effect.scoped))

  it.live("a run that cannot get the lock in time is refused with the holder named, and records nothing", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      const { a, b, repo } = yield* twoProcesses(dataDir, "300 millis")
      nbp.setDelay(1500)
      yield* Effect.addFinalizer(() => Effect.sync(() => nbp.setDelay(0)))
      const slow = yield* Effect.fork(a.run(days[0], "api"))
      yield* Effect.sleep("200 millis")
      const refused = yield* Effect.flip(b.run(days[1], "cli"))
      expect(refused._tag).toBe("BatchBusy")
      expect(refused.message).toMatch(new RegExp(`another batch run is in progress \\(day ${days[0]}, pid ${process.pid} on `))
      yield* slow.await
      const runs = yield* repo.listRuns(10)
      expect(runs.map((r) => [r.usageDate, r.status])).toEqual([[days[0], "succeeded"]])
    }).pipe(Effect.scoped))

  it.live("a lock left by a dead process, or expired, is taken over", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      const { a } = yield* twoProcesses(dataDir, "300 millis")
      const db = new Database(Path.join(dataDir, "usage_summary.db"))
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const far = Date.now() + 3_600_000
      // A crashed CLI on this host: its pid does not exist any more.
      db.prepare(`INSERT INTO batch_lock VALUES (1, 'dead-cli', 2147483646, ?, '2025-11-01', ?, ?)`)
        .run(Os.hostname(), Date.now(), far)
      expect((yield* a.run(days[0], "cli")).rows).toBe(1)
      // Another container's process that stopped renewing: expired.
      db.prepare(`INSERT INTO batch_lock VALUES (1, 'other-host', 1, 'elsewhere', '2025-11-01', ?, ?)`)
        .run(Date.now() - 120_000, Date.now() - 60_000)
      expect((yield* a.run(days[1], "cli")).rows).toBe(1)
      // A live holder elsewhere is respected.
      db.prepare(`INSERT INTO batch_lock VALUES (1, 'other-host', 1, 'elsewhere', '2025-11-01', ?, ?)`).run(Date.now(), far)
      const refused = yield* Effect.flip(a.run(days[2], "cli"))
      expect(refused.message).toContain("pid 1 on elsewhere")
      expect(db.prepare("SELECT count(*) AS n FROM batch_lock").get()).toEqual({ n: 1 })
    }).pipe(Effect.scoped))
})
