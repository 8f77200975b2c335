/**
 * A month reconciliation has not cleared, as the console sees it and closes it: the client's
 * overview says it is not closable now but would be with acceptance (naming the missing day), its
 * reconciliation counts the days; the console's close without acceptance is refused naming the
 * day, and with acceptance and a reason it closes, through the client's own API, with the
 * acceptance on the client's record.
 */
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConsoleConfig } from "../../src/console/ConsoleConfig.js"
import { Fleet } from "../../src/console/Fleet.js"
import { Registry } from "../../src/console/Registry.js"
import { daysFrom } from "../../src/domain/WarsawDay.js"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { previousMonthWithMissingDay, waitForStartupRound } from "../support/openRouterApp.js"
import { API_KEY, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { tempDir } from "../support/tmp.js"

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const { month: MONTH, last: LAST, missing: MISSING } = previousMonthWithMissingDay()

let or: OpenRouterStandIn
let app: TestApp

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  or.setActivity(MISSING, [{ model: "openai/gpt-4o", requests: 1, usage: 0.5 }])
  app = await startApp({ OPENROUTER_API_URL: or.url, OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY, OPENROUTER_API_KEY: API_KEY })
  await waitForStartupRound(app)
  const run = await fetch(`${app.url}/api/v1/admin/batch/run?from=${MONTH}-01&to=${LAST}`, { method: "POST", headers: admin })
  expect(run.status).toBe(200)
}, 90_000)
afterAll(async () => {
  await app?.close()
  await or?.close()
})

const withFleet = <A, E>(f: (fleet: Fleet) => Effect.Effect<A, E>) => {
  const dir = tempDir()
  const file = Path.join(dir, "clients.json")
  const port = Number(new URL(app.url).port)
  Fs.writeFileSync(file, JSON.stringify({ imageVersion: "1", clients: [{ id: "acme", orgId: "acme", port, adminToken: ADMIN_TOKEN }] }))
  const config = Layer.succeed(ConsoleConfig, { port: 0, host: "127.0.0.1", clientsFiles: [file], dataDir: dir, adminTokens: [], clientsVia: "published" })
  return Effect.runPromise(Effect.flatMap(Fleet, f).pipe(
    Effect.provide(Fleet.Default.pipe(Layer.provide(Registry.Default), Layer.provide(config))),
    Effect.scoped
  ))
}

describe("a month reconciliation has not cleared, from the console", () => {
  it("is shown as needing acceptance, refused without it naming the day, closed with it and a reason", async () => {
    const [row] = await withFleet((fleet) => fleet.all(MONTH))
    expect(row.status).toBe("ok")
    const o = row.overview!
    expect(o.state).toMatchObject({ status: "open", closable: false, needsAcceptance: true })
    expect(o.state.refusal).toContain(`OpenRouter counted requests the ledger never received on ${MISSING}`)
    expect(o.reconciliation.configured).toBe(true)
    expect(o.reconciliation.missing).toEqual([MISSING])
    // Every completed UTC day of the month is ok, missing or unreconciled.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
    const counted = daysFrom(`${MONTH}-01`, LAST < yesterday ? LAST : yesterday).length
    expect(o.reconciliation.daysOk + o.reconciliation.daysMissing + o.reconciliation.daysUnreconciled).toBe(counted)

    const refused = await withFleet((fleet) => fleet.close(MONTH, ["acme"], { acceptUnreconciled: false, reason: undefined }))
    expect(refused).toMatchObject([{ id: "acme", ok: false }])
    expect(refused[0].error).toContain(MISSING)

    const closed = await withFleet((fleet) =>
      fleet.close(MONTH, ["acme"], { acceptUnreconciled: true, reason: "OpenRouter confirmed the gap by e-mail" }))
    expect(closed).toMatchObject([{ id: "acme", ok: true, closedBy: "api" }])
    const months = (await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json()) as any
    expect(months.closed[0]).toMatchObject({ month: MONTH, closedBy: "api", reason: "OpenRouter confirmed the gap by e-mail" })
    expect(months.closed[0].reconciliation).toContain(`accepted unreconciled: OpenRouter counted requests the ledger never received on ${MISSING}`)
  })
})
