/**
 * Batch and NBP series on /metrics: the last success comes from batch_runs (so it is there after a
 * restart and after a CLI run of another process), and failed calls to NBP are counted.
 */
import { afterEach, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp, tempDir } from "../support/app.js"
import { generationDelivery } from "../support/otlp.js"
import { seedRun } from "../support/summarySeed.js"

const apps: Array<TestApp> = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})
const start = async (vars: Record<string, string> = {}) => {
  const app = await startApp(vars)
  apps.push(app)
  return app
}
const metrics = async (app: TestApp) => (await fetch(app.url + "/metrics")).text()
const series = (text: string, name: string) => {
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text)
  return m === null ? undefined : Number(m[1])
}

describe("batch metrics", () => {
  it("the last success is read from batch_runs: right after a restart, and after another process's run", async () => {
    const dataDir = tempDir()
    const first = await start({ DATA_DIR: dataDir })
    expect(series(await metrics(first), "mai_batch_last_success_timestamp_seconds")).toBeUndefined()
    await first.close()
    apps.pop()

    // A run recorded by another process (a CLI) while this server is down, then a restart.
    seedRun(dataDir, { usageDate: "2025-11-04", status: "succeeded", startedAt: "2025-11-05T12:00:00.000Z", finishedAt: "2025-11-05T12:00:01.500Z" })
    const restarted = await start({ DATA_DIR: dataDir })
    expect(series(await metrics(restarted), "mai_batch_last_success_timestamp_seconds")).toBe(Date.parse("2025-11-05T12:00:01.500Z") / 1000)

    // Another process's later run, while this one serves: the next scrape has it.
    seedRun(dataDir, { usageDate: "2025-11-05", status: "succeeded", startedAt: "2025-11-06T12:00:00.000Z", finishedAt: "2025-11-06T12:00:02.000Z" })
    seedRun(dataDir, { usageDate: "2025-11-06", status: "failed", startedAt: "2025-11-07T12:00:00.000Z", finishedAt: "2025-11-07T12:00:02.000Z", error: "NBP unreachable" })
    expect(series(await metrics(restarted), "mai_batch_last_success_timestamp_seconds")).toBe(Date.parse("2025-11-06T12:00:02.000Z") / 1000)
  })

  it("counts the app's failed calls to NBP by reason", async () => {
    const app = await start() // NBP_API_URL points at a closed port
    expect(series(await metrics(app), `mai_nbp_fetch_failures_total{reason="unreachable"}`)).toBeUndefined()
    const res = await postWebhook(app.url, generationDelivery({
      id: "gen-metrics-nbp-down",
      time: new Date("2025-10-28T09:00:00.000Z"),
      user: "anna.kowalska@example.pl",
      model: "openai/gpt-4o",
      inputTokens: 10,
      outputTokens: 5,
      cost: 0.5
    }))
    expect(res.status).toBe(200)
    const run = await fetch(app.url + "/api/v1/admin/batch/run?date=2025-10-28", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
    })
    expect(run.status).toBe(503)
    const text = await metrics(app)
    expect(series(text, `mai_nbp_fetch_failures_total{reason="unreachable"}`)).toBeGreaterThanOrEqual(1)
    expect(text).toMatch(/^# TYPE mai_nbp_fetch_failures_total counter$/m)
  })
})
