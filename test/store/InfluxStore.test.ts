/**
 * InfluxDB mode against a real InfluxDB 1.x: deliveries in through the webhook, points out of the
 * outbox, aggregation back through InfluxQL — compared with the ledger for the same events.
 */
import Database from "better-sqlite3"
import { DateTime, Effect } from "effect"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pointTimeNs } from "../../src/domain/PointTime.js"
import type { UsageAggregate } from "../../src/domain/UsageEvent.js"
import { Ledger } from "../../src/store/Ledger.js"
import { UsageStore, type UsageWindow } from "../../src/store/UsageStore.js"
import { asAdmin, fixture, postWebhook, startApp, type TestApp } from "../support/app.js"
import { eventually, hasInfluxd, type Influxd, rowsOf, startInfluxd, warnIfNoInfluxd } from "../support/influx.js"
import { delivery } from "../support/otlp.js"

warnIfNoInfluxd("test/store/influxStore.test.ts")

const DB = "usage_it"
// Every query filters on this exact value (CLIENT_ORG_ID allows letters, digits, dots, dashes, underscores).
const CLIENT = "acme-sp.z_o.o"
const DAY_NS = 1_790_553_600_000_000_000n // 2026-09-28T00:00:00Z
const window: UsageWindow = {
  clientOrgId: CLIENT,
  start: DateTime.unsafeMake("2026-09-28T00:00:00Z"),
  end: DateTime.unsafeMake("2026-09-29T00:00:00Z")
}

let influx: Influxd
let app: TestApp

const run = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> => app.runtime.runPromise(effect)
const influxAggregate = () => run(Effect.flatMap(UsageStore, (s) => s.aggregate(window)))
const ledgerAggregate = () => run(Effect.flatMap(Ledger, (l) => l.aggregate(window)))
const ensureComplete = () => run(Effect.flatMap(UsageStore, (s) => s.ensureComplete(window)))
const sorted = (rows: ReadonlyArray<UsageAggregate>) =>
  [...rows].sort((a, b) => (a.user + "\u0000" + a.model < b.user + "\u0000" + b.model ? -1 : 1))
const pointsOf = async (generationId: string) =>
  rowsOf(await influx.query(`SELECT * FROM "usage_tracking" WHERE "generation_id" = '${generationId}'`, DB))

const post = async (body: string | Buffer) => {
  const res = await postWebhook(app.url, body)
  expect(res.status).toBe(200)
  return (await res.json()) as { accepted: number; duplicates: number; ignored: number }
}

describe.skipIf(!hasInfluxd)("InfluxDB usage store (real influxd 1.x)", () => {
  beforeAll(async () => {
    influx = await startInfluxd()
    await influx.createDatabase(DB)
    app = await startApp({ INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, CLIENT_ORG_ID: CLIENT })
  })
  afterAll(async () => {
    await app?.close()
    await influx?.remove()
  })

  it("round trip: fixture deliveries become the documented points, and InfluxDB aggregates like the ledger", async () => {
    for (const f of ["delivery-full.json", "delivery-privacy-mode.json", "delivery-cached.json"]) {
      expect(await post(fixture(f))).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
    }
    for (let i = 0; i < 12; i++) {
      await post(delivery({
        generationId: `gen-rt-${i}`,
        startNs: DAY_NS + BigInt(i) * 3_600_000_000_000n + 123_456_789n,
        user: `user-${i % 3}`,
        model: i % 2 === 0 ? "openai/gpt-5" : "anthropic/claude-haiku-4.5",
        cost: `0.00${i + 1}2345`
      }))
    }
    // Outside the window (the next day): must not be counted.
    await post(delivery({ generationId: "gen-rt-next-day", startNs: DAY_NS + 86_400_000_000_000n, user: "user-0" }))

    await ensureComplete()

    const [point] = await pointsOf("gen-1790606306-ezgyzfrwf8AlRbQzSiGe")
    expect(point).toEqual({
      time: String(pointTimeNs(1_790_606_306_088_000_000n, "gen-1790606306-ezgyzfrwf8AlRbQzSiGe")),
      client_org_id: CLIENT,
      model: "anthropic/claude-haiku-4.5",
      user: "anna.kowalska@example.pl",
      api_key: "fixture key",
      input_tokens: "4149",
      output_tokens: "154",
      total_tokens: "4303",
      cached_tokens: "0",
      reasoning_tokens: "15",
      cost_nusd: "5953000",
      generation_id: "gen-1790606306-ezgyzfrwf8AlRbQzSiGe",
      provider: "Amazon Bedrock"
    })
    const fields = rowsOf(await influx.query(`SHOW FIELD KEYS FROM "usage_tracking"`, DB))
    expect(Object.fromEntries(fields.map((f) => [f.fieldKey, f.fieldType]))).toEqual({
      cached_tokens: "integer",
      cost_nusd: "integer",
      generation_id: "string",
      input_tokens: "integer",
      output_tokens: "integer",
      provider: "string",
      reasoning_tokens: "integer",
      total_tokens: "integer"
    })
    const tagKeys = rowsOf(await influx.query(`SHOW TAG KEYS FROM "usage_tracking"`, DB)).map((t) => t.tagKey)
    expect(tagKeys.sort()).toEqual(["api_key", "client_org_id", "model", "user"])

    const fromInflux = sorted(await influxAggregate())
    const fromLedger = sorted(await ledgerAggregate())
    expect(fromLedger.reduce((n, r) => n + r.requests, 0)).toBe(15)
    expect(fromInflux).toEqual(fromLedger)
    expect(fromInflux.find((r) => r.user === "unknown")?.costNusd).toBe(5_334_000n)
  })

  it("keeps apart users InfluxDB's escaping would merge: a newline and backslash-n, a trailing backslash, quotes, %", async () => {
    const awkward = ["ann\nb", "ann\\nb", "tenant\\", "tenant\\\u2060", `o'neil "x"`, "50%25", "50%", "x,y z=w"]
    const base = DAY_NS + 20n * 3_600_000_000_000n
    for (const [i, user] of awkward.entries()) {
      await post(delivery({ generationId: `gen-awkward-${i}`, startNs: base + BigInt(i) * 1_000_000_000n, user, model: "m/awkward", cost: `${i + 1}` }))
    }
    await ensureComplete()
    const fromInflux = (await influxAggregate()).filter((r) => r.model === "m/awkward")
    expect(Object.fromEntries(fromInflux.map((r) => [r.user, r.costNusd]))).toEqual(
      Object.fromEntries(awkward.map((u, i) => [u, BigInt(i + 1) * 1_000_000_000n]))
    )
    expect(sorted(fromInflux)).toEqual(sorted((await ledgerAggregate()).filter((r) => r.model === "m/awkward")))
  })

  it("filters on client_org_id: another client's points in the same measurement are not counted", async () => {
    const before = sorted(await influxAggregate())
    const res = await fetch(`${influx.url}/write?db=${DB}&precision=ns`, {
      method: "POST",
      body: `usage_tracking,client_org_id=other,model=openai/gpt-5,user=user-0 cost_nusd=999i,input_tokens=1i,` +
        `output_tokens=1i,total_tokens=2i,cached_tokens=0i,reasoning_tokens=0i ${DAY_NS + 1_000_000n}`
    })
    expect(res.status).toBe(204)
    expect(sorted(await influxAggregate())).toEqual(before)
  })

  it("keeps one point for a redelivery and for a row written twice (flushed, then re-sent)", async () => {
    const id = "gen-1790606311-fyvbCM5LoYAKzflKyBPD"
    expect(await post(fixture("delivery-cached.json"))).toEqual({ accepted: 0, duplicates: 1, ignored: 0, rejected: 0 })
    const before = sorted(await influxAggregate())
    // As if the process died after InfluxDB acknowledged but before the row was marked flushed.
    const db = new Database(Path.join(app.dataDir, "usage_ledger.db"))
    try {
      expect(db.prepare("UPDATE ledger_events SET flushed_at = NULL WHERE generation_id = ?").run(id).changes).toBe(1)
    } finally {
      db.close()
    }
    await eventually(async () => (await run(Effect.flatMap(Ledger, (l) => l.backlog()))) === 0, 10_000, "re-flush")
    expect(await pointsOf(id)).toHaveLength(1)
    expect(sorted(await influxAggregate())).toEqual(before)
  })

  it("keeps two points for two requests of one user and model in the same millisecond", async () => {
    const t = DAY_NS + 7_200_000_000_000n + 555_000_000n
    for (const generationId of ["gen-same-ms-a", "gen-same-ms-b"]) {
      await post(delivery({ generationId, startNs: t, user: "twin", model: "x/twin-model", cost: "0.001" }))
    }
    await ensureComplete()
    const points = rowsOf(await influx.query(`SELECT * FROM "usage_tracking" WHERE "user" = 'twin'`, DB))
    expect(points).toHaveLength(2)
    expect(new Set(points.map((p) => BigInt(p.time as string) / 1_000_000n))).toEqual(new Set([t / 1_000_000n]))
    const twin = (await influxAggregate()).find((r) => r.user === "twin")
    expect(twin).toMatchObject({ model: "x/twin-model", requests: 2, costNusd: 2_000_000n })
  })

  it("user ids and model names with quotes, commas, spaces, =, backslashes and Polish letters survive", async () => {
    const names = [
      `o'brien "the quoted"`,
      "a,b c=d",
      "back\\slash",
      "trailing\\",
      "\\",
      "a\\ b\\,c\\=d",
      "zażółć gęślą jaźń ŻÓŁĆ",
      "  spaced  "
    ]
    let i = 0
    for (const user of names) {
      for (const model of [`vendor/${user}`, "plain/model"]) {
        await post(delivery({
          generationId: `gen-names-${i++}`,
          startNs: DAY_NS + 10_800_000_000_000n + BigInt(i) * 1_000_000_000n,
          user,
          model,
          cost: "0.000123"
        }))
      }
    }
    await ensureComplete()
    const fromInflux = sorted(await influxAggregate())
    expect(fromInflux).toEqual(sorted(await ledgerAggregate()))
    for (const user of names) {
      const rows = fromInflux.filter((r) => r.user === user)
      expect(rows.map((r) => r.model).sort()).toEqual([`vendor/${user}`, "plain/model"].sort())
      expect(rows.every((r) => r.requests === 1 && r.costNusd === 123_000n)).toBe(true)
    }
  })

  it("sums cost exactly beyond 2^53 nano-USD", async () => {
    // Each event within the 10,000 USD bound a span may carry: 901 × 9999.999999999 USD.
    const ids = Array.from({ length: 901 }, (_, i) => i)
    for (let k = 0; k < ids.length; k += 100) {
      const resourceSpans = ids.slice(k, k + 100).flatMap((i) =>
        JSON.parse(delivery({
          generationId: `gen-big-${i}`,
          startNs: DAY_NS + 14_400_000_000_000n + BigInt(i) * 1_000_000n,
          user: "big spender",
          cost: "9999.999999999"
        })).resourceSpans
      )
      const reply = await post(JSON.stringify({ resourceSpans }))
      expect(reply).toMatchObject({ rejected: 0 })
    }
    await ensureComplete()
    const big = (await influxAggregate()).find((r) => r.user === "big spender")
    expect(big?.costNusd).toBe(9_009_999_999_999_099n) // odd and > 2^53: a float sum could not say this
  })

  it("reports InfluxDB reachability, backlog and flush counters on /ready and /metrics", async () => {
    const ready = await fetch(`${app.url}/ready`, asAdmin)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { checks: Record<string, Record<string, unknown>> }
    expect(body.checks.influxdb).toMatchObject({ ok: true, reachable: true, status: 204 })
    expect(body.checks.outbox).toMatchObject({ ok: true, backlog: 0, lagging: false, consecutiveFailures: 0 })
    const metrics = await (await fetch(`${app.url}/metrics`)).text()
    expect(metrics).toMatch(/^mai_outbox_backlog 0$/m)
    expect(metrics).toMatch(/^mai_influxdb_reachable 1$/m)
    expect(metrics).toMatch(/^mai_outbox_flush_failures_total 0$/m)
    const written = Number(/^mai_outbox_points_written_total (\d+)$/m.exec(metrics)?.[1])
    const accepted = Number(/^mai_webhook_events_total\{outcome="accepted"[^}]*\} (\d+)$/m.exec(metrics)?.[1])
    expect(accepted).toBeGreaterThan(30)
    expect(written).toBe(accepted + 1) // + the row re-sent in the redelivery test
  })

  it("prunes ledger rows flushed more than 35 days ago, and only those", async () => {
    const vars = { INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, CLIENT_ORG_ID: CLIENT }
    const first = await startApp(vars)
    for (const generationId of ["gen-prune-old", "gen-prune-recent", "gen-prune-unflushed"]) {
      await postWebhook(first.url, delivery({ generationId, startNs: DAY_NS + 9n, user: "pruned" }))
    }
    await first.close()
    const file = Path.join(first.dataDir, "usage_ledger.db")
    const day = 86_400_000
    const edit = new Database(file)
    edit.prepare("UPDATE ledger_events SET flushed_at = ? WHERE generation_id = ?").run(Date.now() - 36 * day, "gen-prune-old")
    edit.prepare("UPDATE ledger_events SET flushed_at = ? WHERE generation_id = ?").run(Date.now() - 34 * day, "gen-prune-recent")
    edit.prepare("UPDATE ledger_events SET flushed_at = NULL WHERE generation_id = ?").run("gen-prune-unflushed")
    edit.close()

    const again = await startApp({ ...vars, DATA_DIR: first.dataDir })
    try {
      const rows = () => {
        const db = new Database(file, { readonly: true })
        try {
          return db.prepare("SELECT generation_id, flushed_at FROM ledger_events ORDER BY generation_id").all() as Array<
            { generation_id: string; flushed_at: number | null }
          >
        } finally {
          db.close()
        }
      }
      await eventually(() => rows().every((r) => r.flushed_at !== null) && rows().length === 2, 10_000, "prune + flush")
      expect(rows().map((r) => r.generation_id)).toEqual(["gen-prune-recent", "gen-prune-unflushed"])
    } finally {
      await again.close()
    }
  })

  it("flushes what is left when the app shuts down", async () => {
    const second = await startApp({ INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, CLIENT_ORG_ID: CLIENT })
    const res = await postWebhook(second.url, delivery({ generationId: "gen-at-shutdown", startNs: DAY_NS + 5n, user: "late" }))
    expect(res.status).toBe(200)
    await second.close()
    expect(await pointsOf("gen-at-shutdown")).toHaveLength(1)
  })
})
