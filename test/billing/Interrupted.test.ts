/**
 * A batch run whose process was killed (SIGKILL, mid-run) is not left `running` for ever: when the
 * next holder takes the batch lock, the dead run becomes `failed` with the reason `interrupted`.
 * And every SQLite file the service makes (databases, -wal, -shm) is readable by its owner only.
 */
import Database from "better-sqlite3"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook } from "../support/app.js"
import { useAppWithNbp } from "../support/appWithNbp.js"
import { deliveryOf } from "../support/otlp.js"
import { bareEnv, spawnCli } from "../support/process.js"

const env = useAppWithNbp()

const runs = () => {
  const db = new Database(Path.join(env.app.dataDir, "usage_summary.db"), { readonly: true })
  try {
    return db.prepare("SELECT id, usage_date, status, error FROM batch_runs ORDER BY id").all() as Array<{ id: number; usage_date: string; status: string; error: string | null }>
  } finally {
    db.close()
  }
}

describe("a batch run killed mid-run", () => {
  it("is marked failed (interrupted) when the lock is next taken, and the day then bills", async () => {
    const day = "2025-11-14"
    expect((await postWebhook(env.app.url, deliveryOf({ id: "gen-killed-1", at: `${day}T09:00:00.000Z`, user: "anna", model: "m", cost: "0.5" }))).status).toBe(200)
    // NBP answers slowly: the CLI's run is `running` while it waits, and is killed there.
    env.nbp.setDelay(60_000)
    const cli = spawnCli(["batch", "--run-now", "--date", day], { ...bareEnv(), ...env.app.vars, DATA_DIR: env.app.dataDir })
    const deadline = Date.now() + 20_000
    while (!runs().some((r) => r.status === "running")) {
      if (Date.now() > deadline) throw new Error(`the CLI's run never started: ${cli.stderr()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    cli.child.kill("SIGKILL")
    await cli.exited
    expect(runs().map((r) => r.status)).toEqual(["running"])

    env.nbp.setDelay(0)
    const res = await fetch(`${env.app.url}/api/v1/admin/batch/run?date=${day}`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(res.status).toBe(200)
    expect(runs().map((r) => [r.status, r.error])).toEqual([["failed", "interrupted"], ["succeeded", null]])
  }, 60_000)
})

describe("file modes", () => {
  it("every database file and its -wal and -shm is 0600", () => {
    const files = Fs.readdirSync(env.app.dataDir).filter((f) => /\.db(-wal|-shm)?$/.test(f)).sort()
    expect(files).toEqual([
      "usage_ledger.db", "usage_ledger.db-shm", "usage_ledger.db-wal",
      "usage_summary.db", "usage_summary.db-shm", "usage_summary.db-wal"
    ])
    for (const f of files) expect([f, (Fs.statSync(Path.join(env.app.dataDir, f)).mode & 0o777).toString(8)]).toEqual([f, "600"])
  })
})
