/**
 * The schedule under `TestClock`, over the real batch: real ledger and summary DB files and the NBP
 * stand-in over real HTTP. The test steps the clock from one scheduler wake-up to the next.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope, SubscriptionRef, TestClock } from "effect"
import { afterAll, beforeAll } from "vitest"
import { BatchScheduler, type SchedulerPhase } from "../../src/billing/Scheduler.js"
import { type BatchRun, SummaryRepo } from "../../src/billing/SummaryRepo.js"
import { Ledger } from "../../src/store/Ledger.js"
import { tempDir } from "../support/app.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { usageEvent } from "../support/usageEvent.js"
import { processBatch, serverBatch, sleepingAfter, vars, warsawTime } from "./support.js"
import type { UsageEvent } from "../../src/domain/UsageEvent.js"

let nbp: NbpStandIn
beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-12-31" })
})
afterAll(() => nbp.close())

const at = (iso: string) => Date.parse(iso)

/** Starts the app's batch (schedule enabled) in its own scope: closing the scope is a shutdown. */
const startServer = (dataDir: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const ctx = yield* Layer.buildWithScope(serverBatch(vars(dataDir, nbp.url, { DAILY_BATCH_ENABLED: "true" })), scope)
    return {
      phase: Context.get(ctx, BatchScheduler).phase,
      repo: Context.get(ctx, SummaryRepo),
      ledger: Context.get(ctx, Ledger),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** Moves the clock to the scheduler's next wake-up and waits until it sleeps again. */
const stepper = (phase: SubscriptionRef.SubscriptionRef<SchedulerPhase>) => {
  let last = 0
  return {
    /** the wake-up the scheduler is waiting for, once it has settled */
    next: Effect.map(sleepingAfter(phase, -1), (p) => p),
    step: Effect.gen(function*() {
      const p = yield* sleepingAfter(phase, last)
      last = p.until
      yield* TestClock.setTime(p.until)
      return p
    }),
    settled: Effect.suspend(() => sleepingAfter(phase, last))
  }
}

/** Records usage in the ledger with no scheduler running (events that arrived while it was down). */
const seed = (dataDir: string, events: ReadonlyArray<UsageEvent>) =>
  Effect.scoped(
    Effect.flatMap(Layer.build(processBatch(vars(dataDir, nbp.url))), (ctx) => Context.get(ctx, Ledger).record(events))
  )

const runsOldestFirst = (repo: SummaryRepo) => Effect.map(repo.listRuns(1000), (runs) => [...runs].reverse())

describe("the 13:00 Warsaw schedule", () => {
  for (const [name, startIso, expected] of [
    [
      "March: 13:00 CET then 13:00 CEST after 2025-03-30",
      "2025-03-27T08:00:00.000Z",
      ["2025-03-27T12:00:00.000Z", "2025-03-28T12:00:00.000Z", "2025-03-29T12:00:00.000Z", "2025-03-30T11:00:00.000Z", "2025-03-31T11:00:00.000Z", "2025-04-01T11:00:00.000Z"]
    ],
    [
      "October: 13:00 CEST then 13:00 CET after 2025-10-26",
      "2025-10-24T08:00:00.000Z",
      ["2025-10-24T11:00:00.000Z", "2025-10-25T11:00:00.000Z", "2025-10-26T12:00:00.000Z", "2025-10-27T12:00:00.000Z", "2025-10-28T12:00:00.000Z"]
    ]
  ] as const) {
    it.scoped(`fires once a day at 13:00 Warsaw across DST (${name})`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(at(startIso))
        const server = yield* startServer(tempDir())
        const clock = stepper(server.phase)
        const fired: Array<number> = []
        for (let i = 0; i < expected.length; i++) {
          const p = yield* clock.step
          expect(p.next).toBe("schedule")
          fired.push(p.until)
        }
        yield* clock.settled
        expect(fired.map((t) => new Date(t).toISOString())).toEqual(expected)
        expect(fired.map((t) => warsawTime(t).slice(-8))).toEqual(expected.map(() => "13:00:00"))

        // Each firing ran yesterday and the 3 days before it, at that instant, and nothing else ran.
        const runs = yield* runsOldestFirst(server.repo)
        expect(runs.every((r) => r.trigger === "schedule" && r.status === "succeeded")).toBe(true)
        const byFiring = new Map<string, Array<string>>()
        for (const r of runs) byFiring.set(r.startedAt, [...(byFiring.get(r.startedAt) ?? []), r.usageDate])
        expect([...byFiring.keys()]).toEqual(expected)
        for (const [firedAt, days] of byFiring) {
          const today = warsawTime(Date.parse(firedAt)).slice(0, 10).split("/").reverse().join("-")
          const y = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
          expect(days[days.length - 1], firedAt).toBe(y)
          expect(days).toHaveLength(4)
        }
        yield* server.stop
      }))
  }

  it.scoped("after several days of downtime, catches the missed days up in order, then keeps the schedule", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      // Up on Friday 2025-10-03 morning, with usage on 10-02 (not yet summarised).
      yield* seed(dataDir, [usageEvent({ at: "2025-10-02T10:00:00.000Z", user: "anna", model: "m1", cost: "0.5" })])
      yield* TestClock.setTime(at("2025-10-03T06:00:00.000Z"))
      const first = yield* startServer(dataDir)
      const clock1 = stepper(first.phase)
      yield* clock1.step // 13:00 on 10-03
      yield* clock1.settled
      const before = yield* runsOldestFirst(first.repo)
      expect(before.map((r) => [r.usageDate, r.trigger])).toEqual([
        ["2025-10-02", "catch-up"], // start-up: 10-02 has usage
        ["2025-09-29", "schedule"],
        ["2025-09-30", "schedule"],
        ["2025-10-01", "schedule"],
        ["2025-10-02", "schedule"]
      ])
      yield* first.stop

      // Down from 10-03 afternoon until Thursday 10-09 08:00; usage of 10-06 reached the store meanwhile.
      yield* seed(dataDir, [usageEvent({ at: "2025-10-06T09:00:00.000Z", user: "anna", model: "m1", cost: "1.25" })])
      yield* TestClock.setTime(at("2025-10-09T06:00:00.000Z"))
      const second = yield* startServer(dataDir)
      const clock2 = stepper(second.phase)
      const p = yield* clock2.next
      expect(new Date(p.until).toISOString()).toBe("2025-10-09T11:00:00.000Z")
      const startUp = (yield* runsOldestFirst(second.repo)).filter((r) => r.startedAt === "2025-10-09T06:00:00.000Z")
      expect(startUp.map((r) => [r.usageDate, r.trigger, r.status])).toEqual(
        ["2025-10-03", "2025-10-04", "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08"].map((d) => [d, "catch-up", "succeeded"])
      )
      expect(startUp.map((r) => r.id)).toEqual([...startUp.map((r) => r.id)].sort((a, b) => a - b))
      // Monday 10-06 is priced at Friday 10-03's table.
      const oct6 = startUp.find((r) => r.usageDate === "2025-10-06")!
      expect(oct6.rowsWritten).toBe(1)
      expect(oct6.rateTable).toBe("192/A/NBP/2025")

      yield* clock2.step // 13:00 on 10-09: 10-05..10-08 re-aggregated, nothing changed
      yield* clock2.settled
      const scheduled = (yield* runsOldestFirst(second.repo)).filter((r) => r.startedAt === "2025-10-09T11:00:00.000Z")
      expect(scheduled.map((r) => [r.usageDate, r.trigger, r.status, r.corrections])).toEqual(
        ["2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08"].map((d) => [d, "schedule", "succeeded", 0])
      )
      yield* second.stop
    }))

  it.scoped("retries a run that fails because NBP is down every 15 minutes until it succeeds", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      yield* seed(dataDir, [usageEvent({ at: "2025-10-08T10:00:00.000Z", user: "anna", model: "m1", cost: "2" })])
      nbp.setDown(true)
      yield* Effect.addFinalizer(() => Effect.sync(() => nbp.setDown(false)))
      yield* TestClock.setTime(at("2025-10-09T10:00:00.000Z")) // 12:00 Warsaw
      const server = yield* startServer(dataDir)
      const clock = stepper(server.phase)
      const wakes: Array<string> = []
      // NBP down: the start-up catch-up fails, so do the retries and the 13:00 firing.
      for (let i = 0; i < 4; i++) {
        const p = yield* clock.step
        wakes.push(`${warsawTime(p.until).slice(-8)} ${p.next}`)
      }
      expect(wakes).toEqual(["12:15:00 retry", "12:30:00 retry", "12:45:00 retry", "13:00:00 schedule"])
      const afterFiring = yield* clock.settled
      expect([warsawTime(afterFiring.until).slice(-8), afterFiring.next, afterFiring.failing]).toEqual(["13:15:00", "retry", 1])

      nbp.setDown(false)
      yield* clock.step // 13:15: the retry succeeds
      const settled = yield* clock.settled
      // Nothing left to retry: the next wake-up is tomorrow's firing.
      expect([new Date(settled.until).toISOString(), settled.next]).toEqual(["2025-10-10T11:00:00.000Z", "schedule"])
      const runs: ReadonlyArray<BatchRun> = (yield* runsOldestFirst(server.repo)).filter((r) => r.usageDate === "2025-10-08")
      expect(runs.map((r) => `${r.startedAt.slice(11, 16)} ${r.trigger} ${r.status}`)).toEqual([
        "10:00 catch-up failed",
        "10:15 catch-up failed",
        "10:30 catch-up failed",
        "10:45 catch-up failed",
        "11:00 schedule failed",
        "11:15 schedule succeeded"
      ])
      expect(runs.slice(0, 5).every((r) => /NBP/.test(r.error ?? ""))).toBe(true)
      expect(runs[5].rateTable).toBe("194/A/NBP/2025") // Tuesday 10-07's table for Wednesday 10-08
      // Days without usage need no rate: they succeeded at the 13:00 firing despite the outage.
      const others = (yield* runsOldestFirst(server.repo)).filter((r) => r.startedAt === "2025-10-09T11:00:00.000Z")
      expect(others.map((r) => `${r.usageDate} ${r.status}`)).toEqual([
        "2025-10-05 succeeded",
        "2025-10-06 succeeded",
        "2025-10-07 succeeded",
        "2025-10-08 failed"
      ])
      yield* server.stop
    }))
})
