/**
 * Money never overflows downstream of the ledger. Two events of 5e9 USD (5e18 nano-USD each, rows
 * that reached the ledger without the webhook's per-span bound) sum to 1e19 nano-USD, past int64:
 * SQLite's sum() would fail with "integer overflow" and InfluxDB's would wrap to a negative number.
 * In both modes the sums are exact; where a day row cannot hold its cost, the run says so.
 */
import { DateTime, Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { UsageEvent } from "../../src/domain/UsageEvent.js"
import { Ledger } from "../../src/store/Ledger.js"
import { UsageStore } from "../../src/store/UsageStore.js"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { eventually, hasInfluxd, type Influxd, startInfluxd, warnIfNoInfluxd } from "../support/influx.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"

warnIfNoInfluxd("test/store/overflow.test.ts")

const FIVE_BILLION_USD = 5_000_000_000_000_000_000n // nano-USD
const SPLIT_DAY = "2025-10-22" // alice and bob: each row fits, the day's total does not fit int64
const SAME_DAY = "2025-10-23" // one user and model: the row itself is 1e19 nano-USD

let seq = 0
const event = (day: string, user: string): UsageEvent => ({
  generationId: `gen-overflow-${++seq}`,
  eventTimeNs: BigInt(Date.parse(`${day}T10:00:00.000Z`)) * 1_000_000n + BigInt(seq) * 1_000_000_000n,
  clientOrgId: "default",
  user,
  model: "openai/gpt-5",
  apiKeyName: "prod",
  provider: "OpenAI",
  inputTokens: 4_000_000_000_000_000,
  outputTokens: 10,
  totalTokens: 4_000_000_000_000_010,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd: FIVE_BILLION_USD
})

const window = (day: string) => ({
  clientOrgId: "default",
  start: DateTime.unsafeMake(`${day}T00:00:00+02:00`),
  end: DateTime.unsafeMake(`${day}T24:00:00+02:00`)
})

const modes = [
  { name: "embedded mode (ledger)", influx: false },
  { name: "InfluxDB mode (real influxd 1.x)", influx: true }
] as const

for (const mode of modes) {
  describe.skipIf(mode.influx && !hasInfluxd)(`$5e9 events, ${mode.name}`, () => {
    let influx: Influxd | undefined
    let nbp: NbpStandIn
    let app: TestApp
    const run = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> => app.runtime.runPromise(effect)
    const admin = (path: string, method = "GET") =>
      fetch(app.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })

    beforeAll(async () => {
      nbp = await startNbpStandIn({ today: "2025-12-31" })
      const vars: Record<string, string> = { NBP_API_URL: nbp.url }
      if (mode.influx) {
        influx = await startInfluxd()
        await influx.createDatabase("usage_overflow")
        Object.assign(vars, { INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: "usage_overflow" })
      }
      app = await startApp(vars)
      await run(Effect.flatMap(Ledger, (l) =>
        l.record([
          event(SPLIT_DAY, "alice"),
          event(SPLIT_DAY, "bob"),
          event(SAME_DAY, "carol"),
          event(SAME_DAY, "carol")
        ])))
      if (mode.influx) {
        await eventually(async () => (await run(Effect.flatMap(Ledger, (l) => l.backlog()))) === 0, 30_000, "flush")
      }
    })
    afterAll(async () => {
      await app?.close()
      await nbp?.close()
      await influx?.remove()
    })

    it("aggregates 1e19 nano-USD exactly (no \"integer overflow\", no wrap-around)", async () => {
      const rows = await run(Effect.flatMap(UsageStore, (s) => s.aggregate(window(SAME_DAY))))
      expect(rows).toEqual([{
        user: "carol",
        model: "openai/gpt-5",
        requests: 2,
        inputTokens: 8_000_000_000_000_000,
        outputTokens: 20,
        totalTokens: 8_000_000_000_000_020,
        cachedTokens: 0,
        reasoningTokens: 0,
        costNusd: 10_000_000_000_000_000_000n
      }])
    })

    it("bills a day whose total passes int64 exactly, in the batch, the month summary and its CSV", async () => {
      const res = await admin(`/api/v1/admin/batch/run?date=${SPLIT_DAY}`, "POST")
      const body = await res.text()
      expect(res.status, body).toBe(200)
      expect(JSON.parse(body).results[0]).toMatchObject({ status: "succeeded", events: 2, totalUsd: "10000000000.00" })

      const summary = (await (await admin("/api/v1/usage/summary?month=2025-10")).json()) as any
      expect(summary.usageTotals.costUsd).toBe("10000000000.00")
      expect(summary.users.map((u: any) => [u.user, u.costUsd])).toEqual([["alice", "5000000000.00"], ["bob", "5000000000.00"]])
      const csv = await (await admin("/api/v1/usage/summary?month=2025-10&format=csv&list=days")).text()
      expect(csv).toContain(`${SPLIT_DAY},2,`)
      expect(csv).toContain(",10000000000.00,")
    })

    it("a day row beyond what the summary can hold fails its run with a clear message, not a crash", async () => {
      const res = await admin(`/api/v1/admin/batch/run?date=${SAME_DAY}`, "POST")
      const body = await res.text()
      expect(res.status).toBe(503)
      expect(body).toContain(
        `the cost of user \\"carol\\", model \\"openai/gpt-5\\" on ${SAME_DAY} is 10000000000.00 USD, ` +
          "beyond the 9223372036.854775807 USD a summary row can hold"
      )
      // The reports still answer (the day is shown as not billed, with its exact cost).
      const summary = await admin("/api/v1/usage/summary?month=2025-10")
      expect(summary.status).toBe(200)
      const unbilled = ((await summary.json()) as any).unbilledDays as Array<{ date: string; costUsd: string }>
      expect(unbilled.find((d) => d.date === SAME_DAY)?.costUsd).toBe("10000000000.00")
    })
  })
}
