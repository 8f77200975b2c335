/**
 * Reconciliation in production mode: the ledger is an outbox drained into a real InfluxDB (1.x),
 * and the usage side of the comparison is read back from InfluxDB, not from the ledger.
 * A withheld delivery is `missing` exactly; once it arrives and reaches InfluxDB the day is `ok`; a
 * point that exists only in InfluxDB turns its model `extra` (the comparison reads InfluxDB).
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Reconciler } from "../../src/openrouter/Reconciler.js"
import { Ledger } from "../../src/store/Ledger.js"
import { startApp, type TestApp } from "../support/app.js"
import { eventually, hasInfluxd, type Influxd, rowsOf, startInfluxd, warnIfNoInfluxd } from "../support/influx.js"
import { API_KEY, API_KEY_NAME, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { deliverGeneration, runIn, waitForStartupRound } from "../support/openRouterApp.js"
import { addDays, dayOf } from "../../src/domain/WarsawDay.js"
import { toLineProtocol } from "../../src/store/UsagePoint.js"
import { usageEvent } from "../support/usageEvent.js"

warnIfNoInfluxd(import.meta.url)

const DB = "usage_reconcile"
const DAY = addDays(dayOf(Date.now(), "UTC"), -2)
const MODELS = ["anthropic/claude-sonnet-4", "openai/gpt-4o"] as const
const cost = (m: number, k: number) => Number((0.021 + m * 0.2 + k * 0.0047).toFixed(6))
const REQUESTS = 3

let or: OpenRouterStandIn
let influx: Influxd
let app: TestApp

const deliver = (m: number, k: number) =>
  deliverGeneration(app.url, {
    id: `gen-recinflux-${m}-${k}`,
    time: new Date(Date.parse(`${DAY}T09:00:00Z`) + (m * 10 + k) * 60_000),
    model: MODELS[m],
    cost: cost(m, k)
  })

/** Waits until the outbox has drained every event into InfluxDB. */
const flushed = () => eventually(async () => (await runIn(app, Effect.flatMap(Ledger, (l) => l.backlog()))) === 0, 30_000, "flush")
const pointsInInflux = async () => {
  const rows = rowsOf(await influx.query(`SELECT count("cost_nusd") FROM "usage_tracking" WHERE time >= '${DAY}T00:00:00Z'`, DB))
  return Number(rows[0]?.count ?? 0)
}
const reconcile = () => runIn(app, Effect.flatMap(Reconciler, (r) => r.reconcile(DAY)))

describe.skipIf(!hasInfluxd)("reconciliation against InfluxDB (production mode)", () => {
  beforeAll(async () => {
    or = await startOpenRouterStandIn()
    influx = await startInfluxd()
    await influx.createDatabase(DB)
    app = await startApp({
      INFLUXDB_URL: influx.url,
      INFLUXDB_API: "v1",
      INFLUXDB_BUCKET: DB,
      OPENROUTER_API_URL: or.url,
      OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY,
      OPENROUTER_API_KEY: API_KEY
    })
    await waitForStartupRound(app)
    or.setActivity(DAY, MODELS.map((model, m) => ({
      model,
      requests: REQUESTS,
      usage: Array.from({ length: REQUESTS }, (_, k) => cost(m, k)).reduce((a, b) => a + b, 0)
    })))
    // Request 1 of the second model is withheld.
    for (let m = 0; m < MODELS.length; m++) for (let k = 0; k < REQUESTS; k++) if (!(m === 1 && k === 1)) await deliver(m, k)
    await flushed()
  }, 90_000)

  afterAll(async () => {
    await app?.close()
    await or?.close()
    await influx?.remove()
  })

  it("reads InfluxDB's points: the withheld request is missing, exactly, and the other model is ok", async () => {
    expect(await pointsInInflux()).toBe(REQUESTS * MODELS.length - 1)
    const r = await reconcile()
    expect(r.status).toBe("missing")
    expect(r.models.map((m) => [m.model, m.status])).toEqual([[MODELS[0], "ok"], [MODELS[1], "missing"]])
    const missing = r.models[1]
    expect(missing.missingRequests).toBe(1)
    expect(Number(missing.missingNusd) / 1e9).toBeCloseTo(cost(1, 1), 6)
    expect(missing.ledger.requests).toBe(REQUESTS - 1)
  })

  it("turns ok once the withheld delivery has reached InfluxDB", async () => {
    await deliver(1, 1)
    await flushed()
    expect(await pointsInInflux()).toBe(REQUESTS * MODELS.length)
    const r = await reconcile()
    expect(r.status).toBe("ok")
    expect(r.models.map((m) => [m.model, m.status, m.ledger.requests])).toEqual(MODELS.map((model) => [model, "ok", REQUESTS]))
  })

  it("the usage side is InfluxDB's: a point written only there (never in the ledger) makes its model extra", async () => {
    const point = toLineProtocol({
      ...usageEvent({ generationId: "gen-only-in-influx", costNusd: 50_000_000n, clientOrgId: "acme", apiKeyName: API_KEY_NAME }),
      eventTimeNs: BigInt(Date.parse(`${DAY}T15:00:00Z`)) * 1_000_000n,
      clientOrgId: app.vars.CLIENT_ORG_ID ?? "default",
      model: MODELS[0]
    }, "usage_tracking")
    const res = await fetch(`${influx.url}/write?db=${DB}&precision=ns`, { method: "POST", body: point })
    expect(res.status).toBe(204)
    const r = await reconcile()
    expect(r.models.map((m) => [m.model, m.status, m.ledger.requests])).toEqual([[MODELS[0], "extra", REQUESTS + 1], [MODELS[1], "ok", REQUESTS]])
  })
})
