/**
 * End to end: fixture deliveries posted to the real app (NBP_API_URL = the stand-in serving NBP's
 * real tables) → the batch (admin API and the real CLI as a child process) → /api/v1/usage/daily
 * and the summary DB. Expected figures are computed here independently, with integer arithmetic.
 */
import Database from "better-sqlite3"
import { spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, asAdmin, postWebhook, startApp, type TestApp } from "../support/app.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { deliveryOf, type EventSpec } from "../support/otlp.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"

const POLISH = `Zażółć "gęślą" jaźń <ŁÓDŹ>`
const QUOTES = `O'Brien "the 'admin'" \\ ś`
const ANNA = "anna.kowalska@example.pl"
const HAIKU = "anthropic/claude-haiku-4.5"
const GPT = "openai/gpt-4o"

/** Each event with the Warsaw day it must land on. */
const events: Array<EventSpec & { day: string }> = [
  // an ordinary day (Wednesday 2025-10-22, CEST): last millisecond and first millisecond
  { id: "gen-e2e-01", at: "2025-10-22T21:59:59.999Z", day: "2025-10-22", user: POLISH, model: HAIKU, cost: "0.005953" },
  { id: "gen-e2e-02", at: "2025-10-22T22:00:00.000Z", day: "2025-10-23", user: POLISH, model: HAIKU, cost: "0.01" },
  // 2025-10-26, 25 hours: from 00:00 CEST to 23:59:59.999 CET
  { id: "gen-e2e-03", at: "2025-10-25T21:59:59.999Z", day: "2025-10-25", user: ANNA, model: GPT, cost: "0.3" },
  { id: "gen-e2e-04", at: "2025-10-25T22:00:00.000Z", day: "2025-10-26", user: ANNA, model: GPT, cost: "0.123456789" },
  { id: "gen-e2e-05", at: "2025-10-26T22:59:59.999Z", day: "2025-10-26", user: ANNA, model: GPT, cost: "0.2" },
  { id: "gen-e2e-06", at: "2025-10-26T22:59:59.999Z", day: "2025-10-26", user: QUOTES, model: HAIKU, cost: "0.000001" },
  // Monday 2025-10-27 starts at 00:00 CET: priced at Friday 10-24's table
  { id: "gen-e2e-07", at: "2025-10-26T23:00:00.000Z", day: "2025-10-27", user: QUOTES, model: HAIKU, cost: "1.5" },
  { id: "gen-e2e-08", at: "2025-10-27T10:00:00.000Z", day: "2025-10-27", user: POLISH, model: GPT, cost: "0.987654321" },
  // 2025-03-30, 23 hours: from 00:00 CET to 23:59:59.999 CEST; Monday 03-31 after it
  { id: "gen-e2e-09", at: "2025-03-29T22:59:59.999Z", day: "2025-03-29", user: POLISH, model: HAIKU, cost: "0.05" },
  { id: "gen-e2e-10", at: "2025-03-29T23:00:00.000Z", day: "2025-03-30", user: POLISH, model: HAIKU, cost: "0.07" },
  { id: "gen-e2e-11", at: "2025-03-30T21:59:59.999Z", day: "2025-03-30", user: POLISH, model: HAIKU, cost: "0.11" },
  { id: "gen-e2e-12", at: "2025-03-30T22:00:00.000Z", day: "2025-03-31", user: POLISH, model: HAIKU, cost: "0.13" }
]

/** The rule, applied to NBP's tables independently of the app: newest table strictly before the day. */
const previousTable = (day: string) => {
  const before = fixtureTables().filter((t) => t.effectiveDate < day)
  return before[before.length - 1]
}

const expectedRows = (list: typeof events) => {
  const rows = new Map<string, { date: string; user: string; model: string; requests: number; nusd: bigint }>()
  for (const e of list) {
    const k = JSON.stringify([e.day, e.user, e.model])
    const r = rows.get(k) ?? { date: e.day, user: e.user, model: e.model, requests: 0, nusd: 0n }
    r.requests++
    r.nusd += nanoUsd(e.cost)
    rows.set(k, r)
  }
  return [...rows.values()].map((r) => {
    const t = previousTable(r.date)
    return {
      date: r.date,
      user: r.user,
      model: r.model,
      requests: r.requests,
      costPln: expectedPln(r.nusd, "1.3", t.mid),
      rate: t.mid,
      rateTable: t.no,
      rateDate: t.effectiveDate,
      markup: "1.3"
    }
  }).sort((a, b) => JSON.stringify([a.date, a.user, a.model]).localeCompare(JSON.stringify([b.date, b.user, b.model])))
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

let nbp: NbpStandIn
let app: TestApp

const post = (path: string) => fetch(app.url + path, { method: "POST", headers: admin })
const get = (path: string) => fetch(app.url + path, { headers: admin })

const daily = async (from: string, to: string) => {
  const res = await get(`/api/v1/usage/daily?from=${from}&to=${to}`)
  expect(res.status).toBe(200)
  const body = (await res.json()) as { rows: Array<Record<string, unknown>> }
  return body.rows
    .map((r) => ({
      date: r.date,
      user: r.user,
      model: r.model,
      requests: r.requests,
      costPln: r.costPln,
      rate: r.rate,
      rateTable: r.rateTable,
      rateDate: r.rateDate,
      markup: r.markup
    }))
    .sort((a, b) => JSON.stringify([a.date, a.user, a.model]).localeCompare(JSON.stringify([b.date, b.user, b.model])))
}

const binPath = fileURLToPath(new URL("../../bin/mai-usage.js", import.meta.url))

/** The real CLI in a child process, over the app's data directory. */
const cli = (args: Array<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [binPath, "batch", ...args], {
      env: { ...process.env, ...app.vars, NBP_API_URL: nbp.url },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-12-31" })
  app = await startApp({ NBP_API_URL: nbp.url })
  for (const e of events) {
    const res = await postWebhook(app.url, deliveryOf(e))
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
  }
})

afterAll(async () => {
  await app?.close()
  await nbp?.close()
})

describe("the daily batch, end to end", () => {
  it("puts each event on its Warsaw day, prices it at the right NBP table, and keeps user ids intact", async () => {
    const unauthenticated = await fetch(app.url + "/api/v1/admin/batch/run?date=2025-10-22", { method: "POST" })
    expect(unauthenticated.status).toBe(401)

    const october = await post("/api/v1/admin/batch/run?from=2025-10-22&to=2025-10-27")
    expect(october.status).toBe(200)
    const results = ((await october.json()) as { results: Array<Record<string, unknown>> }).results
    expect(results.map((r) => [r.usageDate, r.status, r.rateTable])).toEqual([
      ["2025-10-22", "succeeded", "204/A/NBP/2025"],
      ["2025-10-23", "succeeded", "205/A/NBP/2025"],
      ["2025-10-24", "succeeded", null], // no usage: no rate needed
      ["2025-10-25", "succeeded", "207/A/NBP/2025"],
      ["2025-10-26", "succeeded", "207/A/NBP/2025"],
      ["2025-10-27", "succeeded", "207/A/NBP/2025"] // Monday: Friday 10-24's table
    ])
    const march = await post("/api/v1/admin/batch/run?from=2025-03-29&to=2025-03-31")
    expect(march.status).toBe(200)

    const rows = await daily("2025-03-01", "2025-10-31")
    expect(rows).toEqual(expectedRows(events))
    // Spot checks against NBP's published tables.
    const monday = rows.find((r) => r.date === "2025-10-27" && r.user === QUOTES)!
    expect([monday.rateTable, monday.rateDate, monday.rate]).toEqual(["207/A/NBP/2025", "2025-10-24", "3.6481"])
    // 1.5 USD × 1.3 × 3.6481 = 7.113795 → 7.11
    expect(monday.costPln).toBe("7.11")
    const marchMonday = rows.find((r) => r.date === "2025-03-31")!
    expect([marchMonday.rateTable, marchMonday.rateDate]).toEqual(["061/A/NBP/2025", "2025-03-28"])
    expect(rows.filter((r) => r.date === "2025-03-30")[0].requests).toBe(2)
    expect(rows.filter((r) => r.date === "2025-10-26").map((r) => [r.user, r.requests])).toEqual([[ANNA, 2], [QUOTES, 1]])

    // The run listing: newest first, with the run's figures.
    const listing = await get("/api/v1/admin/batch/runs?limit=3")
    const runs = ((await listing.json()) as { runs: Array<Record<string, unknown>> }).runs
    expect(runs.map((r) => r.usageDate)).toEqual(["2025-03-31", "2025-03-30", "2025-03-29"])
    expect(Object.keys(runs[0]).sort()).toEqual(
      ["id", "usageDate", "trigger", "status", "startedAt", "finishedAt", "events", "rowsWritten", "corrections", "rate",
        "rateTable", "markup", "source", "error"].sort()
    )
    expect(runs[1]).toMatchObject({
      trigger: "api",
      status: "succeeded",
      events: 2,
      rowsWritten: 1,
      corrections: 0,
      rate: "3.8817",
      rateTable: "061/A/NBP/2025",
      markup: "1.3",
      source: "ledger",
      error: null
    })
    expect((await fetch(app.url + "/api/v1/admin/batch/runs")).status).toBe(401)

    // Batch metrics and the readiness checks.
    const metrics = await (await fetch(app.url + "/metrics")).text()
    expect(metrics).toMatch(/^mai_batch_runs_total\{status="succeeded"\} 9$/m)
    const lastSuccess = Number(/^mai_batch_last_success_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(120)
    const ready = (await (await fetch(app.url + "/ready", asAdmin)).json()) as { checks: Record<string, any> }
    expect(ready.checks.summaryDb).toEqual({ ok: true })
    expect(ready.checks.lastBatch).toMatchObject({ ok: true, lastRun: { usageDate: "2025-03-31", status: "succeeded" } })
  })

  it("re-running changes nothing; a late event becomes a correction on the next run", async () => {
    const db = new Database(Path.join(app.dataDir, "usage_summary.db"), { readonly: true })
    try {
      const snapshot = () => db.prepare("SELECT * FROM daily_usage ORDER BY usage_date, user, model").all()
      const before = snapshot()
      const again = await post("/api/v1/admin/batch/run?from=2025-10-22&to=2025-10-27")
      const results = ((await again.json()) as { results: Array<{ corrections: number }> }).results
      expect(results.map((r) => r.corrections)).toEqual([0, 0, 0, 0, 0, 0])
      expect(snapshot()).toEqual(before) // not even updated_at moved

      const late = { id: "gen-e2e-late", at: "2025-10-26T12:00:00.000Z", day: "2025-10-26", user: ANNA, model: GPT, cost: "0.05" }
      expect((await postWebhook(app.url, deliveryOf(late))).status).toBe(200)
      const rerun = await post("/api/v1/admin/batch/run?date=2025-10-26")
      const [r] = ((await rerun.json()) as { results: Array<Record<string, unknown>> }).results
      expect(r).toMatchObject({ usageDate: "2025-10-26", corrections: 1, rows: 2, events: 4 })
      expect((await daily("2025-10-26", "2025-10-26"))).toEqual(expectedRows([...events, late].filter((e) => e.day === "2025-10-26")))
    } finally {
      db.close()
    }
  })

  it("the CLI: NBP unreachable → exit 1 and no rows; later it succeeds; bad dates → exit 2 with one line", async () => {
    const e = { id: "gen-e2e-cli", at: "2025-10-28T09:00:00.000Z", day: "2025-10-28", user: POLISH, model: GPT, cost: "2.5" }
    expect((await postWebhook(app.url, deliveryOf(e))).status).toBe(200)
    nbp.setDown(true)
    const [down, ...bad] = await Promise.all([
      cli(["--run-now", "--date", "2025-10-28"]),
      cli(["--run-now", "--date", "2025-02-30"]),
      cli(["--run-now", "--date", "2025-2-3"]),
      cli(["--run-now", "--from", "2025-10-05", "--to", "2025-10-01"]),
      cli(["--run-now", "--date", "2025-10-01", "--from", "2025-10-01", "--to", "2025-10-02"])
    ])
    nbp.setDown(false)
    expect(down.code).toBe(1)
    expect(down.stderr.trim().split("\n")).toHaveLength(1)
    expect(down.stderr).toMatch(/^2025-10-28: run #\d+ failed: NBP unreachable/)
    expect(await daily("2025-10-28", "2025-10-28")).toEqual([])
    const failedRun = ((await (await get("/api/v1/admin/batch/runs?limit=1")).json()) as { runs: Array<Record<string, unknown>> }).runs[0]
    expect(failedRun).toMatchObject({ usageDate: "2025-10-28", trigger: "cli", status: "failed", rowsWritten: null })

    expect(bad.map((r) => [r.code, r.stderr.trim()])).toEqual([
      [2, 'batch: --date: invalid date "2025-02-30": no such calendar day'],
      [2, 'batch: --date: invalid date "2025-2-3": expected YYYY-MM-DD'],
      [2, "batch: --from 2025-10-05 is after --to 2025-10-01"],
      [2, "batch: --date cannot be combined with --from/--to"]
    ])

    const cliStarted = Date.now()
    const up = await cli(["--run-now", "--date", "2025-10-28"])
    expect(up.stderr).toBe("")
    // The server's gauge follows the CLI's run (another process) on the next scrape.
    const scraped = await (await fetch(app.url + "/metrics")).text()
    const lastSuccess = Number(/^mai_batch_last_success_timestamp_seconds (\S+)$/m.exec(scraped)?.[1])
    expect(lastSuccess * 1000).toBeGreaterThanOrEqual(cliStarted)
    expect(up.code).toBe(0)
    // Tuesday 10-28 at Monday 10-27's table; 2.5 × 1.3 × 3.6395 = 11.828375 → 11.83
    expect(up.stdout.trim()).toMatch(
      /^2025-10-28: run #\d+ succeeded: 1 row, 1 event, total USD 2\.50, PLN 11\.83 \(NBP 208\/A\/NBP\/2025 of 2025-10-27 at 3\.6395, markup 1\.3\), 0 corrections$/
    )
    expect(await daily("2025-10-28", "2025-10-28")).toEqual(expectedRows([e]))
  })
})
