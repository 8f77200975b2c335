/**
 * A directory that cannot be read (Open WebUI's file missing, then present but not a database)
 * never fails anything: the app starts, /ready stays ready with the directory "degraded" and why
 * (for an admin; anyone else sees the status word only), the batch bills the day, and the people
 * report shows ids as they are, saying why there are no names.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { asAdmin, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { generationDelivery } from "../support/otlp.js"

let app: TestApp
let nbp: NbpStandIn
const file = Path.join(tempDir(), "webui.db")

beforeAll(async () => {
  Fs.writeFileSync(file, "this is not a SQLite database, whatever its name says\n".repeat(200))
  nbp = await startNbpStandIn()
  app = await startApp({ NBP_API_URL: nbp.url, DATABASE_URL: `sqlite:///${file}` })
})
afterAll(async () => {
  await app?.close()
  await nbp?.close()
})

it("is degraded on /ready, never fails billing, and leaves the ids as they are", async () => {
  let ready: any
  for (let i = 0; i < 100; i++) {
    ready = await (await fetch(app.url + "/ready", asAdmin)).json()
    if (ready.checks.directory.status === "degraded") break
    await new Promise((r) => setTimeout(r, 100))
  }
  expect(ready.ok).toBe(true)
  expect(ready.checks.directory).toMatchObject({ ok: true, status: "degraded", lastReadAt: null })
  expect(ready.checks.directory.warning, ready.checks.directory.warning).toMatch(/^Open WebUI.s database cannot be read: .*not a database/)
  const anonymous = (await (await fetch(app.url + "/ready")).json()) as any
  expect(anonymous.checks.directory).toEqual({ ok: true, status: "degraded" })

  const res = await postWebhook(app.url, generationDelivery({
    id: "gen-unreadable-1",
    time: new Date("2025-11-10T10:00:00.000Z"),
    user: "anna.kowalska@example.pl",
    model: "openai/gpt-4o",
    inputTokens: 10,
    outputTokens: 5,
    cost: 1
  }))
  expect(res.status).toBe(200)
  const run = await fetch(app.url + "/api/v1/admin/batch/run?date=2025-11-10", { ...asAdmin, method: "POST" })
  expect(run.status).toBe(200)
  expect(((await run.json()) as any).results[0]).toMatchObject({ status: "succeeded", rows: 1 })

  const people = (await (await fetch(app.url + "/api/v1/people?month=2025-11", asAdmin)).json()) as any
  expect(people.directory.status).toBe("degraded")
  expect(people.users.map((u: any) => [u.user, u.name, u.email, u.groups])).toEqual([["anna.kowalska@example.pl", null, null, ""]])
  expect(people.groups).toEqual([])
})
