/**
 * Which InfluxDB answers quarantine rows and which do not, against a recorder speaking InfluxDB 2's
 * error format (`{"code":…,"message":…}`). 401/403 are configuration errors: back off, alert (log
 * and `mai_influxdb_auth_failures_total`), /ready degraded, nothing quarantined. 404/429 and 5xx
 * say nothing about the rows: kept and retried. Only a refusal for good (here a 422) narrows the
 * batch, and only the refused row is quarantined, with InfluxDB's message.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Ledger } from "../../src/store/Ledger.js"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { eventually, type RecordedRequest, startRecorder } from "../support/influx.js"
import { delivery } from "../support/otlp.js"

const DAY_NS = 1_790_553_600_000_000_000n

describe("outbox answers by status (InfluxDB 2 recorder)", () => {
  let recorder: Awaited<ReturnType<typeof startRecorder>>
  let app: TestApp
  let answer: (req: RecordedRequest) => { status: number; body?: string } = () => ({ status: 204 })
  const writes = () => recorder.requests.filter((r) => r.url.startsWith("/api/v2/write"))
  const ledger = <A>(f: (l: typeof Ledger.Service) => Effect.Effect<A, any>) =>
    app.runtime.runPromise(Effect.flatMap(Ledger, f))
  const readyOutbox = async () =>
    ((await (await fetch(`${app.url}/ready`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as any)
  const send = async (id: string, i: number) => {
    const res = await postWebhook(app.url, delivery({ generationId: id, startNs: DAY_NS + BigInt(i) * 1_000_000_000n, cost: "0.01" }))
    expect(res.status).toBe(200)
  }

  beforeAll(async () => {
    recorder = await startRecorder((req) => answer(req))
    app = await startApp({ INFLUXDB_URL: recorder.url, INFLUXDB_API: "v2", INFLUXDB_ORG: "o", INFLUXDB_TOKEN: "tok-0123456789" })
  })
  afterAll(async () => {
    await app?.close()
    await recorder?.close()
  })

  it("401 and 403: kept, never quarantined, alerted and degraded; written once the credentials are fixed", async () => {
    answer = () => ({ status: 401, body: `{"code":"unauthorized","message":"unauthorized access"}` })
    await send("gen-auth-1", 1)
    await eventually(() => writes().length >= 1, 10_000, "a refused write")
    answer = () => ({ status: 403, body: `{"code":"forbidden","message":"insufficient permissions for write"}` })
    await eventually(() => writes().length >= 2, 15_000, "a second, backed-off write")
    expect(await ledger((l) => l.quarantinedCount())).toBe(0)
    expect(await ledger((l) => l.backlog())).toBe(1)
    const metrics = await (await fetch(`${app.url}/metrics`)).text()
    expect(Number(/^mai_influxdb_auth_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2)
    const ready = await readyOutbox()
    expect(ready.ok).toBe(true)
    expect(ready.checks.outbox).toMatchObject({ ok: true, status: "degraded", credentialsRefused: true, quarantined: 0 })

    answer = () => ({ status: 204 })
    await eventually(async () => (await ledger((l) => l.backlog())) === 0, 70_000, "the write after the fix")
    expect(await ledger((l) => l.quarantinedCount())).toBe(0)
  }, 90_000)

  it("a refusal for good quarantines only the refused row, with InfluxDB's message; 429 and 5xx quarantine nothing", async () => {
    answer = () => ({ status: 503, body: `{"code":"unavailable","message":"busy"}` })
    for (let i = 0; i < 6; i++) await send(`gen-status-${i}`, 10 + i)
    await eventually(() => writes().some((w) => w.body.includes("gen-status-5")), 10_000, "a write of the six")
    answer = () => ({ status: 429, body: `{"code":"too many requests","message":"slow down"}` })
    const seen = writes().length
    await eventually(() => writes().length > seen, 15_000, "a retried write")
    expect(await ledger((l) => l.quarantinedCount())).toBe(0)

    answer = (req) =>
      req.body.includes("gen-status-3")
        ? { status: 422, body: `{"code":"unprocessable entity","message":"failure writing points: gen-status-3 is bad"}` }
        : { status: 204 }
    await eventually(async () => (await ledger((l) => l.backlog())) === 0, 70_000, "the rest written")
    const rows = await ledger((l) => l.outboxQuarantined(10))
    expect(rows.map((r) => [r.generationId, r.reason])).toEqual([
      ["gen-status-3", "HTTP 422: failure writing points: gen-status-3 is bad"]
    ])
    expect((await readyOutbox()).checks.outbox).toMatchObject({ status: "degraded", quarantined: 1 })
  }, 90_000)
})
