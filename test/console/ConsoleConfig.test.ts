/**
 * The console's settings: a bad value stops it with one line naming the variable (exit 2); without
 * CONSOLE_ADMIN_TOKEN it generates its own on first start, keeps it in DATA_DIR (0600), prints it
 * once, and logs in with it (failed logins slowed as the app's); the next start keeps it and prints nothing.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { bareEnv, freePort, runCli, spawnCli, waitForHealth } from "../support/process.js"
import { tempDir } from "../support/tmp.js"

describe("mai-usage console's settings", () => {
  it("refuses a bad value in one line naming the variable, exit 2", async () => {
    for (const [name, value, why] of [
      ["CONSOLE_PORT", "80a", "CONSOLE_PORT: not a port number: 80a"],
      ["CONSOLE_ADMIN_TOKEN", "short", "CONSOLE_ADMIN_TOKEN: each token must be at least 16 characters (comma-separated during a rotation)"],
      ["CONSOLE_CLIENTS_VIA", "docker", "CONSOLE_CLIENTS_VIA: expected published or compose, got docker"]
    ]) {
      const r = await runCli(["console"], { ...bareEnv(), DATA_DIR: tempDir(), [name]: value })
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: `configuration error: ${why}\n` })
    }
  })

  it("generates its token on first start, prints it once, keeps it; the next start uses it silently", async () => {
    const dir = tempDir()
    const clients = Path.join(dir, "clients.json")
    Fs.writeFileSync(clients, JSON.stringify({ imageVersion: "1", clients: [{ id: "a", orgId: "a", port: 9, adminToken: "a-admin-token-0123456789" }] }))
    const start = async () => {
      const port = await freePort()
      const env = { ...bareEnv(), CONSOLE_PORT: String(port), CONSOLE_HOST: "127.0.0.1", CONSOLE_CLIENTS: clients, DATA_DIR: Path.join(dir, "data") }
      const running = spawnCli(["console"], env)
      await waitForHealth(`http://127.0.0.1:${port}`, running)
      return { running, url: `http://127.0.0.1:${port}` }
    }
    const first = await start()
    const file = Path.join(dir, "data", "console-admin-token")
    const token = Fs.readFileSync(file, "utf8").trim()
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(Fs.statSync(file).mode & 0o777).toBe(0o600)
    const login = await fetch(`${first.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: first.url },
      body: `token=${token}`
    })
    expect(login.status).toBe(303)
    expect(login.headers.get("set-cookie")).toMatch(/^mai_console_session_\d+=[^;]+; .*HttpOnly.*SameSite=Strict/i)
    expect(login.headers.get("set-cookie")).not.toContain(token)
    // Failed logins are slowed per address, as the app's (dashboard/LoginThrottle.ts): the sixth is 429.
    const statuses: Array<number> = []
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${first.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: first.url },
        body: "token=not-the-console-token-000"
      })
      statuses.push(r.status)
      if (r.status === 429) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
    first.running.child.kill("SIGTERM")
    expect(await first.running.exited).toBe(0)
    expect(first.running.stdout().split(token).length - 1).toBe(1)

    const second = await start()
    second.running.child.kill("SIGTERM")
    expect(await second.running.exited).toBe(0)
    expect(second.running.stdout()).not.toContain(token)
    expect(Fs.readFileSync(file, "utf8").trim()).toBe(token)
  })
})
