/**
 * The outbox quarantine against a real InfluxDB 1.x: one row InfluxDB refuses for good among
 * thousands never blocks the others. What InfluxDB 1.x really refuses per row, checked: a field
 * type conflict (another writer put a float `cost_nusd` into the shard of that row's week: 400
 * `partial write: field type conflict`); the operator's fix is to drop that shard. A row whose tag
 * InfluxDB could not take (a 70,000-character user that reached the ledger) is never sent at all.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { UsageEvent } from "../../src/domain/UsageEvent.js"
import { Ledger } from "../../src/store/Ledger.js"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { eventually, hasInfluxd, type Influxd, rowsOf, startInfluxd, warnIfNoInfluxd } from "../support/influx.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { runCli } from "../support/process.js"

warnIfNoInfluxd("test/store/outboxQuarantine.test.ts")

const DB = "usage_quarantine"
const GOOD_DAY = "2025-10-22" // Wednesday; InfluxDB's shard of 2025-10-20..27
const BAD_DAY = "2025-11-05" // another week, another shard
const noonNs = (day: string) => BigInt(Date.parse(`${day}T10:00:00.000Z`)) * 1_000_000n
const GOOD = 3_000

let influx: Influxd
let nbp: NbpStandIn
let app: TestApp

const event = (id: string, day: string, i: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  generationId: id,
  eventTimeNs: noonNs(day) + BigInt(i) * 1_000_000_000n,
  clientOrgId: "default",
  user: `user-${i % 7}`,
  model: i % 2 === 0 ? "openai/gpt-5" : "anthropic/claude-haiku-4.5",
  apiKeyName: "prod",
  provider: "OpenAI",
  inputTokens: 100,
  outputTokens: 20,
  totalTokens: 120,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd: 1_000_000n, // 0.001 USD
  ...extra
})

const run = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> => app.runtime.runPromise(effect)
const quarantined = () => run(Effect.flatMap(Ledger, (l) => l.quarantinedCount()))
const backlog = () => run(Effect.flatMap(Ledger, (l) => l.backlog()))
const count = async (where = "") =>
  Number(rowsOf(await influx.query(`SELECT count("cost_nusd") FROM "usage_tracking" ${where}`, DB))[0]?.count ?? 0)
const batch = async (day: string) => {
  const res = await fetch(`${app.url}/api/v1/admin/batch/run?date=${day}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
  })
  return { status: res.status, text: await res.text() }
}
const cliEnv = () => ({ ...process.env, ...app.vars } as Record<string, string>)

describe.skipIf(!hasInfluxd)("outbox quarantine (real influxd 1.x)", () => {
  beforeAll(async () => {
    influx = await startInfluxd()
    await influx.createDatabase(DB)
    nbp = await startNbpStandIn({ today: "2025-12-31" })
    app = await startApp({ INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, NBP_API_URL: nbp.url })
  })
  afterAll(async () => {
    await app?.close()
    await nbp?.close()
    await influx?.remove()
  })

  it("one refused row among thousands: the rest reach InfluxDB, it is quarantined, its day fails, retry drains it", async () => {
    // Another writer's float cost_nusd in the bad day's week: InfluxDB now refuses our integer there.
    const intruder = await fetch(`${influx.url}/write?db=${DB}&precision=ns`, {
      method: "POST",
      body: `usage_tracking,client_org_id=other cost_nusd=1.5 ${noonNs(BAD_DAY) - 3_600_000_000_000n}`
    })
    expect(intruder.status).toBe(204)

    const events = Array.from({ length: GOOD }, (_, i) => event(`gen-q-${i}`, GOOD_DAY, i))
    // In the middle of one outbox batch, so it shares its write with thousands of good rows.
    events.splice(GOOD / 2, 0, event("gen-q-refused", BAD_DAY, 0, { user: "carol", costNusd: 7_000_000n }))
    expect(await run(Effect.flatMap(Ledger, (l) => l.record(events)))).toEqual({ accepted: GOOD + 1, duplicates: 0, conflicts: 0 })

    await eventually(async () => (await quarantined()) === 1 && (await backlog()) === 0, 60_000, "the outbox to narrow")
    expect(await count(`WHERE "client_org_id" = 'default'`)).toBe(GOOD)
    expect(await count(`WHERE "generation_id" = 'gen-q-refused'`)).toBe(0)

    const [row] = await run(Effect.flatMap(Ledger, (l) => l.outboxQuarantined(10)))
    expect(row.generationId).toBe("gen-q-refused")
    expect(row.reason).toMatch(/^HTTP 400: partial write: field type conflict: input field "cost_nusd"/)

    // Degraded, informational: still 200 and ok (503 is only for the ledger and the summary DB).
    const ready = await fetch(`${app.url}/ready`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as any
    expect(body.ok).toBe(true)
    expect(body.checks.outbox).toMatchObject({ ok: true, status: "degraded", quarantined: 1, backlog: 0 })
    const metrics = await (await fetch(`${app.url}/metrics`)).text()
    expect(metrics).toMatch(/^mai_outbox_quarantined 1$/m)
    expect(metrics).toMatch(/^mai_outbox_quarantined_total 1$/m)

    const good = await batch(GOOD_DAY)
    expect(good.status).toBe(200)
    expect(JSON.parse(good.text).results[0]).toMatchObject({ status: "succeeded", events: GOOD, totalUsd: "3.00" })
    const bad = await batch(BAD_DAY)
    expect(bad.status).toBe(503)
    expect(bad.text).toContain(
      "1 event of the window was refused by InfluxDB and quarantined; inspect with `mai-usage outbox list`"
    )

    const listed = await runCli(["outbox", "list"], cliEnv())
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/gen-q-refused .*user="carol".*cost_nusd=7000000: HTTP 400: partial write: field type conflict/)
    expect(listed.stdout).toContain("1 quarantined row; after fixing the cause: mai-usage outbox retry")

    // The operator's fix: drop the shard holding the conflicting field type (only the intruder's point).
    const shards = rowsOf(await influx.query("SHOW SHARDS"))
      .filter((s) => s.database === DB && String(s.start_time) <= `${BAD_DAY}T` && String(s.end_time) > `${BAD_DAY}T`)
    expect(shards).toHaveLength(1)
    await influx.query(`DROP SHARD ${shards[0].id}`)

    const retried = await runCli(["outbox", "retry"], cliEnv())
    expect(retried.stderr).toBe("")
    expect(retried.code).toBe(0)
    expect(retried.stdout).toContain("1 row released")
    expect(await quarantined()).toBe(0)
    expect(await count(`WHERE "generation_id" = 'gen-q-refused'`)).toBe(1)
    const fixed = await batch(BAD_DAY)
    expect(fixed.status).toBe(200)
    expect(JSON.parse(fixed.text).results[0]).toMatchObject({ status: "succeeded", events: 1, totalUsd: "0.007" })
    const after = (await (await fetch(`${app.url}/ready`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as any
    expect(after.checks.outbox).toMatchObject({ status: "ok", quarantined: 0 })
  }, 240_000)

  it("a tag InfluxDB could not take (70,000 characters, already in the ledger) is never sent, and blocks nothing", async () => {
    const day = "2025-11-12"
    const events = [
      event("gen-long-before", day, 1),
      event("gen-long-user", day, 2, { user: "u".repeat(70_000) }),
      event("gen-long-after", day, 3)
    ]
    await run(Effect.flatMap(Ledger, (l) => l.record(events)))
    await eventually(async () => (await quarantined()) === 1 && (await backlog()) === 0, 30_000, "the long tag to be set aside")
    const [row] = await run(Effect.flatMap(Ledger, (l) => l.outboxQuarantined(10)))
    expect(row.generationId).toBe("gen-long-user")
    expect(row.reason).toBe("tag user is 70000 bytes, above the 16000-byte bound for InfluxDB tags (not sent)")
    expect(await count(`WHERE "generation_id" = 'gen-long-before' OR "generation_id" = 'gen-long-after'`)).toBe(2)
    expect(await count(`WHERE "generation_id" = 'gen-long-user'`)).toBe(0)
  }, 60_000)
})
