/**
 * Fault test: InfluxDB stops while deliveries keep arriving. Every delivery is still
 * answered 200 and kept; once InfluxDB is back the outbox drains on its own, and InfluxDB holds
 * every event exactly once.
 */
import { DateTime, Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Ledger } from "../../src/store/Ledger.js"
import { UsageStore } from "../../src/store/UsageStore.js"
import { asAdmin, postWebhook, startApp, type TestApp } from "../support/app.js"
import { eventually, hasInfluxd, type Influxd, rowsOf, startInfluxd, warnIfNoInfluxd } from "../support/influx.js"
import { delivery } from "../support/otlp.js"

warnIfNoInfluxd("test/store/outboxFault.test.ts")

const DB = "usage_fault"
const DAY_NS = 1_790_553_600_000_000_000n // 2026-09-28T00:00:00Z
const window = {
  clientOrgId: "default",
  start: DateTime.unsafeMake("2026-09-28T00:00:00Z"),
  end: DateTime.unsafeMake("2026-09-29T00:00:00Z")
}

let influx: Influxd
let app: TestApp

const backlog = () => app.runtime.runPromise(Effect.flatMap(Ledger, (l) => l.backlog()))
const send = async (i: number) => {
  const res = await postWebhook(app.url, delivery({
    generationId: `gen-fault-${i}`,
    startNs: DAY_NS + BigInt(i) * 60_000_000_000n,
    user: `user-${i % 4}`,
    cost: "0.0001"
  }))
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ accepted: 1 })
}

describe.skipIf(!hasInfluxd)("outbox while InfluxDB is down (real influxd 1.x)", () => {
  beforeAll(async () => {
    influx = await startInfluxd()
    await influx.createDatabase(DB)
    app = await startApp({ INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB })
  })
  afterAll(async () => {
    await app?.close()
    await influx?.remove()
  })

  it("keeps answering 200, keeps every row, and drains exactly once after InfluxDB returns", async () => {
    for (let i = 0; i < 10; i++) await send(i)
    await eventually(async () => (await backlog()) === 0, 10_000, "first flush")

    await influx.stop()
    for (let i = 10; i < 60; i++) {
      await send(i)
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 300))
    }
    expect(await backlog()).toBe(50)

    // While InfluxDB is away: still ready (the ledger is fine), with the outage reported.
    await eventually(async () => {
      const body = (await (await fetch(`${app.url}/ready`, asAdmin)).json()) as any
      return body.ok === true && body.checks.influxdb.reachable === false && body.checks.outbox.consecutiveFailures > 0
    }, 10_000, "/ready to report the outage")
    const metrics = await (await fetch(`${app.url}/metrics`)).text()
    expect(Number(/^mai_outbox_flush_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    expect(metrics).toMatch(/^mai_outbox_backlog 50$/m)
    expect(metrics).toMatch(/^mai_influxdb_reachable 0$/m)
    // A summary must never be made from partial data.
    const incomplete = await app.runtime.runPromise(
      Effect.either(Effect.flatMap(UsageStore, (s) => s.ensureComplete(window)))
    )
    expect(Either.isLeft(incomplete) && incomplete.left.message).toMatch(/^50 events of the window are not in InfluxDB yet/)

    await influx.start()
    for (let i = 60; i < 70; i++) await send(i)
    // No nudge from the test: the background flusher's back-off retry picks it up.
    await eventually(async () => (await backlog()) === 0, 45_000, "the outbox to drain after the restart")

    const points = rowsOf(await influx.query(`SELECT "generation_id", "cost_nusd" FROM "usage_tracking"`, DB))
    const ids = points.map((p) => p.generation_id as string)
    expect(ids).toHaveLength(70)
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 70 }, (_, i) => `gen-fault-${i}`)))

    // Every delivery sent twice: duplicates, and still exactly one point each.
    for (let i = 0; i < 70; i += 7) {
      const res = await postWebhook(app.url, delivery({
        generationId: `gen-fault-${i}`,
        startNs: DAY_NS + BigInt(i) * 60_000_000_000n,
        user: `user-${i % 4}`,
        cost: "0.0001"
      }))
      expect(await res.json()).toEqual({ accepted: 0, duplicates: 1, ignored: 0, rejected: 0 })
    }
    const total = await app.runtime.runPromise(Effect.flatMap(UsageStore, (s) => s.aggregate(window)))
    expect(total.reduce((n, r) => n + r.requests, 0)).toBe(70)
    expect(total.reduce((n, r) => n + r.costNusd, 0n)).toBe(7_000_000n)
  })
})
