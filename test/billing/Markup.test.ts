/**
 * Markup history over real restarts of the app (same DATA_DIR) and the real CLI: a changed
 * USAGE_MARKUP_MULTIPLIER prices only days from its effective date; an effective date inside a
 * closed month is refused at start-up with one line naming the variable.
 */
import Database from "better-sqlite3"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"
import { runCli } from "../support/process.js"
import { previousTable } from "../support/summarySeed.js"

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
let nbp: NbpStandIn
let dataDir: string
let app: TestApp | undefined

const start = async (extra: Record<string, string> = {}) => {
  await app?.close()
  app = undefined
  app = await startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url, ...extra })
  lastVars = app.vars
  return app
}
const run = async (a: TestApp, q: string) => {
  const res = await fetch(`${a.url}/api/v1/admin/batch/run?${q}`, { method: "POST", headers: admin })
  const body = (await res.json()) as any
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.results as Array<any>
}
const rows = () => {
  const db = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
  try {
    return db.prepare("SELECT usage_date, markup, cost_pln, updated_at FROM daily_usage ORDER BY usage_date").all() as Array<any>
  } finally {
    db.close()
  }
}
let lastVars: Record<string, string> = {}
const cliEnv = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  ...lastVars,
  NBP_API_URL: nbp.url
})

beforeAll(async () => {
  nbp = await startNbpStandIn()
  dataDir = tempDir()
})

afterAll(async () => {
  await app?.close()
  await nbp?.close()
  Fs.rmSync(dataDir, { recursive: true, force: true })
})

describe("markup history", () => {
  it("re-running a day before the new markup's effective date keeps its figures; a day after uses the new one", async () => {
    const a = await start()
    for (const [i, at] of ["2025-10-10T10:00:00.000Z", "2025-10-20T10:00:00.000Z"].entries()) {
      const res = await postWebhook(a.url, deliveryOf({ id: `gen-markup-${i}`, at, user: "anna", model: "m", cost: "2" }))
      expect(res.status).toBe(200)
    }
    await run(a, "from=2025-10-10&to=2025-10-20")
    const before = rows()
    expect(before.map((r) => [r.usage_date, r.markup])).toEqual([["2025-10-10", "1.3"], ["2025-10-20", "1.3"]])

    const b = await start({ USAGE_MARKUP_MULTIPLIER: "1.5", USAGE_MARKUP_EFFECTIVE_FROM: "2025-10-15" })
    const results = await run(b, "from=2025-10-10&to=2025-10-20")
    const byDay = new Map(results.map((r) => [r.usageDate, r]))
    expect(byDay.get("2025-10-10")).toMatchObject({ markup: "1.3", corrections: 0 })
    expect(byDay.get("2025-10-20")).toMatchObject({ markup: "1.5", corrections: 1 })
    const after = rows()
    expect(after[0]).toEqual(before[0]) // untouched, updated_at included
    expect(after[1].markup).toBe("1.5")
    expect(after[1].cost_pln).toBe(expectedPln(nanoUsd("2"), "1.5", previousTable("2025-10-20").mid))

    const db = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
    try {
      expect(db.prepare("SELECT effective_from, multiplier FROM markup_history ORDER BY id").all()).toEqual([
        { effective_from: "0001-01-01", multiplier: "1.3" },
        { effective_from: "2025-10-15", multiplier: "1.5" }
      ])
      // The markup used is recorded per run.
      const runs = db.prepare("SELECT usage_date, markup FROM batch_runs WHERE usage_date IN ('2025-10-10', '2025-10-20') ORDER BY id DESC LIMIT 11").all() as Array<any>
      expect(runs.find((r) => r.usage_date === "2025-10-10").markup).toBe("1.3")
      expect(runs.find((r) => r.usage_date === "2025-10-20").markup).toBe("1.5")
    } finally {
      db.close()
    }
    // The same configuration again records nothing new.
    await start({ USAGE_MARKUP_MULTIPLIER: "1.5", USAGE_MARKUP_EFFECTIVE_FROM: "2025-10-15" })
    const db2 = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
    try {
      expect(db2.prepare("SELECT count(*) AS n FROM markup_history").get()).toEqual({ n: 2 })
    } finally {
      db2.close()
    }
  })

  it("refuses, naming the variable, a new markup effective inside a closed month (CLI close, then start-up); a CLI records none", async () => {
    const a = await start({ USAGE_MARKUP_MULTIPLIER: "1.5", USAGE_MARKUP_EFFECTIVE_FROM: "2025-10-15" })
    const missing = await runCli(["month", "close", "2025-10"], cliEnv())
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("no successful batch run for 2025-10-01 to 2025-10-09, 2025-10-21 to 2025-10-31")
    await run(a, "from=2025-10-01&to=2025-10-31")
    const closed = await runCli(["month", "close", "2025-10", "--by", "Anna Kowalska", "--reason", "invoiced"], cliEnv())
    expect(closed.stderr).toBe("")
    expect(closed.code).toBe(0)
    // The closer's name (--by) is recorded beside "cli", in the closing and its audit entry.
    const names = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
    try {
      expect(names.prepare("SELECT closed_by, closer_name, reason FROM closed_months").all()).toEqual([
        { closed_by: "cli", closer_name: "Anna Kowalska", reason: "invoiced" }
      ])
      expect(names.prepare("SELECT by, closer_name FROM month_audit WHERE action = 'close'").all()).toEqual([
        { by: "cli", closer_name: "Anna Kowalska" }
      ])
    } finally {
      names.close()
    }
    expect(closed.stdout).toMatch(/^2025-10 closed at \S+ by cli \(Anna Kowalska\): total PLN \d+\.\d\d, USD 4\.00, 2 requests; statement CSV SHA-256 [0-9a-f]{64}; not reconciled \(no OpenRouter management key\)\n$/)
    expect((await runCli(["month", "close", "2025-1"], cliEnv())).code).toBe(2)

    await app!.close()
    app = undefined
    await expect(startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url, USAGE_MARKUP_MULTIPLIER: "1.7", USAGE_MARKUP_EFFECTIVE_FROM: "2025-10-31" }))
      .rejects.toThrow(/USAGE_MARKUP_EFFECTIVE_FROM: 2025-10-31 is in or before the closed month 2025-10/)
    const cli = await runCli(["batch", "--run-now", "--date", "2025-11-01"], {
      ...cliEnv(),
      USAGE_MARKUP_MULTIPLIER: "1.7",
      USAGE_MARKUP_EFFECTIVE_FROM: "2025-10-20"
    })
    // A CLI never records a markup (only serve does, at start-up): it prices by the history and says so.
    expect(cli.code).toBe(0)
    expect(cli.stderr.trim().split("\n")).toEqual([
      "warning: USAGE_MARKUP_MULTIPLIER: 1.7 is not in the markup history yet (its newest entry is 1.5 from 2025-10-15); " +
        "days are priced by the history, and `serve` records the change at its next start"
    ])
    const db = new Database(Path.join(dataDir, "usage_summary.db"), { readonly: true })
    try {
      expect(db.prepare("SELECT count(*) AS n FROM markup_history").get()).toEqual({ n: 2 })
      expect(db.prepare("SELECT markup FROM batch_runs WHERE usage_date = '2025-11-01' ORDER BY id DESC LIMIT 1").get()).toEqual({ markup: "1.5" })
    } finally {
      db.close()
    }
    // The day after the closed month is accepted.
    await start({ USAGE_MARKUP_MULTIPLIER: "1.7", USAGE_MARKUP_EFFECTIVE_FROM: "2025-11-01" })
  })
})
