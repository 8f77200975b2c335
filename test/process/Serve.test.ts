import Database from "better-sqlite3"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { fixture, tempDir } from "../support/app.js"
import { delivery } from "../support/otlp.js"
import { bareEnv, binPath, freePort, runCli, spawnCli, waitForHealth } from "../support/process.js"

describe("mai-usage serve with no configuration at all", () => {
  it("generates its secrets once, serves /health, accepts a fixture delivery, stops cleanly on SIGTERM", async () => {
    const cwd = tempDir()
    const first = spawnCli(["serve"], bareEnv(), cwd)
    try {
      await waitForHealth("http://127.0.0.1:8080", first)
      const secretFile = Path.join(cwd, "data", "webhook-secret")
      const secret = Fs.readFileSync(secretFile, "utf8").trim()
      expect(Fs.statSync(secretFile).mode & 0o777).toBe(0o600)
      expect(Fs.statSync(Path.join(cwd, "data", "admin-token")).mode & 0o777).toBe(0o600)
      expect(first.stdout()).toContain(`Authorization: Bearer ${secret}`)
      const res = await fetch("http://127.0.0.1:8080/api/v1/webhooks/openrouter", {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: fixture("delivery-privacy-mode.json")
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
      // Log lines are JSON, and the secret appears only in the one-time announcement.
      const logLines = first.stdout().split("\n").filter((l) => l.startsWith("{"))
      expect(logLines.length).toBeGreaterThan(0)
      for (const l of logLines) {
        expect(() => JSON.parse(l)).not.toThrow()
        expect(l).not.toContain(secret)
      }
    } finally {
      first.child.kill("SIGTERM")
    }
    expect(await first.exited).toBe(0)
    // One JSON object per line, `message` a string; a line when shutting down and when stopped.
    const messages = first.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    for (const m of messages) expect(typeof m.message).toBe("string")
    expect(messages.find((m) => m.message === "listening")).toMatchObject({ port: 8080 })
    expect(messages.some((m) => /^shutting down/.test(m.message))).toBe(true)
    expect(messages[messages.length - 1]).toMatchObject({ level: "INFO", message: "stopped", signal: "SIGTERM" })
    expect(first.stdout()).toContain("Dashboard: http://localhost:8080/")

    const second = spawnCli(["serve"], bareEnv(), cwd)
    try {
      await waitForHealth("http://127.0.0.1:8080", second)
      expect(second.stdout()).not.toContain("Authorization: Bearer")
      const ready = await fetch("http://127.0.0.1:8080/ready")
      expect(ready.status).toBe(200)
    } finally {
      second.child.kill("SIGTERM")
    }
    expect(await second.exited).toBe(0)
  })
})

describe("a bad configuration value stops start-up with one line naming the variable", () => {
  it.each([
    ["DAILY_BATCH_TIMEZONE", "Mars/Olympus_Mons"],
    ["USAGE_MARKUP_MULTIPLIER", "0"],
    ["INFLUXDB_URL", "not a url"]
  ])("%s=%s", async (name, value) => {
    const { code, stderr, stdout } = await runCli(["serve"], { ...bareEnv(), DATA_DIR: tempDir(), [name]: value }, tempDir())
    expect(code).toBe(2)
    const lines = stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(name)
    expect(stdout).not.toContain("listening")
  })
})

describe("durability", () => {
  // The production build (bin/mai-usage.js runs dist/bin.js, no TypeScript loader) with the
  // power-loss-safe ledger setting, as deployed.
  it("every 200-acknowledged generation survives SIGKILL under concurrent load, stored exactly once (production build, LEDGER_SYNC=full)", async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const env = { ...bareEnv(), PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, OPENROUTER_WEBHOOK_SECRET: "s3cret-kill-0123456789", DAILY_BATCH_ENABLED: "false", LEDGER_SYNC: "full" }
    const server = spawnCli(["serve"], env)
    await waitForHealth(url, server)
    const cmdline = Fs.readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8").split("\0").filter(Boolean)
    expect(cmdline.slice(1)).toEqual(["--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", binPath, "serve"]) // the bin's memory flags, no loader flag
    expect(Fs.readFileSync(binPath, "utf8")).toContain("../dist/bin.js")
    const acked = new Set<string>()
    const sent: Array<string> = []
    let stop = false
    const client = async (c: number) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const id = `gen-kill-${c}-${i}`
        sent.push(id)
        try {
          const res = await fetch(url + "/api/v1/webhooks/openrouter", {
            method: "POST",
            headers: { authorization: "Bearer s3cret-kill-0123456789", "content-type": "application/json" },
            body: delivery({ generationId: id, user: `user-${c}` })
          })
          if (res.status === 200 && ((await res.json()) as any).accepted === 1) acked.add(id)
        } catch {
          return // the server is gone
        }
      }
    }
    const clients = Array.from({ length: 8 }, (_, c) => client(c))
    await new Promise((r) => setTimeout(r, 1500))
    server.child.kill("SIGKILL")
    stop = true
    await Promise.all(clients)
    await server.exited
    expect(acked.size).toBeGreaterThan(50)

    const restarted = spawnCli(["serve"], env)
    try {
      await waitForHealth(url, restarted)
      // The sender retries everything it sent; acknowledged ones must come back as duplicates.
      let duplicates = 0
      for (const id of sent) {
        const res = await fetch(url + "/api/v1/webhooks/openrouter", {
          method: "POST",
          headers: { authorization: "Bearer s3cret-kill-0123456789", "content-type": "application/json" },
          body: delivery({ generationId: id, user: "retry" })
        })
        const body = (await res.json()) as any
        if (acked.has(id)) expect(body).toEqual({ accepted: 0, duplicates: 1, ignored: 0, rejected: 0 })
        duplicates += body.duplicates
      }
      expect(duplicates).toBeGreaterThanOrEqual(acked.size)
    } finally {
      restarted.child.kill("SIGTERM")
      await restarted.exited
    }
    const db = new Database(Path.join(dataDir, "usage_ledger.db"), { readonly: true })
    const ids = (db.prepare("SELECT generation_id FROM ledger_events").all() as Array<{ generation_id: string }>)
      .map((r) => r.generation_id)
    db.close()
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of acked) expect(ids).toContain(id)
    expect(ids.length).toBe(new Set(sent).size)
  })
})
