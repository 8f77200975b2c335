/**
 * Key drift's hourly snapshots in the real app under a TestClock: one snapshot at start-up, one
 * more for every hour the clock moves (none while it stands still), and each snapshot's interval
 * compares what OpenRouter's `/key` says the key spent since the previous snapshot with what the
 * ledger received in the same interval (by event time).
 */
import Database from "better-sqlite3"
import { Layer, Logger, LogLevel, ManagedRuntime, TestClock, TestContext } from "effect"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { platformFromMap, serveLayer } from "../../src/App.js"
import { Listening } from "../../src/http/Server.js"
import { baseVars, tempDir } from "../support/app.js"
import { API_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { deliverGeneration } from "../support/openRouterApp.js"

const HOUR = 3_600_000
/** The TestClock's "now" once the test sets it: a Monday morning, UTC. */
const T0 = Date.parse("2026-11-30T08:00:00Z")

interface Row {
  readonly taken_at: number
  readonly utc_day: string
  readonly usage_nusd: number
  readonly interval_start: number | null
  readonly interval_openrouter_nusd: number | null
  readonly interval_ledger_nusd: number | null
}

let or: OpenRouterStandIn
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let url: string
let dataDir: string

const snapshots = (): Array<Row> => {
  const db = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
  try {
    return db.prepare("SELECT * FROM key_snapshots ORDER BY id").all() as Array<Row>
  } finally {
    db.close()
  }
}

/** Waits (real time) until there are `n` snapshots; the loop's HTTP call to the stand-in is real. */
const waitFor = async (n: number) => {
  const deadline = Date.now() + 10_000
  while (snapshots().length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} snapshots, have ${snapshots().length}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return snapshots()
}

/** Moves the app's TestClock on by `ms`. */
const adjustClock = (ms: number) => runtime.runPromise(TestClock.adjust(ms))

const deliver = (id: string, atMs: number, cost: number) =>
  deliverGeneration(url, { id, time: new Date(atMs), model: "openai/gpt-4o", cost })

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  or.setKeyUsage(12, 0.5)
  dataDir = tempDir()
  // Only the API key: the hourly key-drift loop runs, the reconciliation loops do not.
  const vars = { ...baseVars(dataDir), OPENROUTER_API_URL: or.url, OPENROUTER_API_KEY: API_KEY }
  // The TestClock stands at T0 before the app starts (moving it across decades later would run every
  // short periodic loop of the app that many times).
  const clock = Layer.effectDiscard(TestClock.setTime(T0)).pipe(Layer.provideMerge(TestContext.TestContext))
  const layer = serveLayer(platformFromMap(vars)).pipe(
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error)),
    Layer.provide(clock)
  )
  runtime = ManagedRuntime.make(layer)
  url = (await runtime.runPromise(Listening)).url
})

afterAll(async () => {
  await runtime?.dispose()
  await or?.close()
})

describe("key drift snapshots", () => {
  it("one at start-up, then one an hour; the interval sets OpenRouter's spend beside the ledger's", async () => {
    const [first] = await waitFor(1)
    expect(first.taken_at).toBe(T0)
    expect(first.utc_day).toBe("2026-11-30")
    expect(first.interval_start).toBeNull()

    // Within the next hour OpenRouter bills 0.75 USD more; 0.70 USD of it reaches the ledger.
    or.setKeyUsage(12.75, 1.25)
    await deliver("gen-drift-1", T0 + 10 * 60_000, 0.5)
    await deliver("gen-drift-2", T0 + 50 * 60_000, 0.2)
    // Before the interval: counted for the day, not for the hour.
    await deliver("gen-drift-0", T0 - 30 * 60_000, 0.1)

    // No snapshot while the clock stands still, nor before the hour is over.
    await new Promise((r) => setTimeout(r, 300))
    expect(snapshots()).toHaveLength(1)
    await adjustClock(59 * 60_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(snapshots()).toHaveLength(1)

    await adjustClock(60_000)
    const two = await waitFor(2)
    const s = two[1]
    expect(s.taken_at).toBe(T0 + HOUR)
    expect(s.interval_start).toBe(T0)
    expect(s.interval_openrouter_nusd).toBe(750_000_000)
    expect(s.interval_ledger_nusd).toBe(700_000_000)
    expect(s.usage_nusd).toBe(12_750_000_000)

    // Two more hours: exactly two more snapshots, each an hour after the last.
    await adjustClock(HOUR)
    await waitFor(3)
    await adjustClock(HOUR)
    const four = await waitFor(4)
    await new Promise((r) => setTimeout(r, 300))
    expect(snapshots()).toHaveLength(4)
    expect(four.map((r) => r.taken_at - T0)).toEqual([0, HOUR, 2 * HOUR, 3 * HOUR])
    expect(four[3].interval_start).toBe(T0 + 2 * HOUR)
  }, 60_000)
})
