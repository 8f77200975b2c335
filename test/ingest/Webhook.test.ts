import Database from "better-sqlite3"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture, postWebhook, startApp, type TestApp } from "../support/app.js"

let app: TestApp
const ledgerRows = () => {
  const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
  db.defaultSafeIntegers(true)
  try {
    return db.prepare("SELECT * FROM ledger_events ORDER BY id").all() as Array<Record<string, unknown>>
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app.close())

describe("webhook", () => {
  it("stores a privacy-mode delivery once, with its exact cost", async () => {
    const res = await postWebhook(app.url, fixture("delivery-privacy-mode.json"))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0 })
    const again = await postWebhook(app.url, fixture("delivery-privacy-mode.json"))
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 1, ignored: 0 })
    const rows = ledgerRows().filter((r) => r.generation_id === "gen-1790606306-ezgyzfrwf8AlRbQzSiGe")
    expect(rows).toHaveLength(1)
    expect(rows[0].cost_nusd).toBe(5_953_000n)
    expect(rows[0].user).toBe("anna.kowalska@example.pl")
  })
})
