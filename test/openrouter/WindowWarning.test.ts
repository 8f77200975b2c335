/**
 * OpenRouter keeps activity for 30 completed UTC days: /ready warns (degraded) while a day of an
 * open month is within 5 days of leaving that window unreconciled, and names the command.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, expect, it } from "vitest"
import { completedWindow } from "../../src/domain/Reconcile.js"
import { Reconciler } from "../../src/openrouter/Reconciler.js"
import { asAdmin, startApp, type TestApp } from "../support/app.js"
import { runIn, waitForStartupRound } from "../support/openRouterApp.js"
import { API_KEY, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"

let or: OpenRouterStandIn
let app: TestApp

beforeAll(async () => {
  or = await startOpenRouterStandIn()
  // A refusal (not retried): every day of the start-up round is unavailable.
  or.setFailure(400)
  app = await startApp({ OPENROUTER_API_URL: or.url, OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY, OPENROUTER_API_KEY: API_KEY })
  await waitForStartupRound(app)
}, 60_000)
afterAll(async () => {
  await app?.close()
  await or?.close()
})

const readiness = async () => ((await (await fetch(`${app.url}/ready`, asAdmin)).json()) as any).checks.reconciliation

it("warns while the oldest five days of the window were never reconciled, until they are", async () => {
  const oldest = completedWindow(Date.now()).slice(0, 5)
  const warned = await readiness()
  expect(warned.status).toBe("degraded")
  expect(warned.leavingWindowUnreconciled).toEqual(oldest)
  expect(warned.reconcile).toBe(`mai-usage reconcile --from ${oldest[0]} --to ${oldest[4]}`)
  // Without authentication only the status word shows.
  expect(((await (await fetch(`${app.url}/ready`)).json()) as any).checks.reconciliation).toEqual({ ok: true, status: "degraded" })

  or.setFailure(null)
  for (const day of oldest) expect((await runIn(app, Effect.flatMap(Reconciler, (r) => r.reconcile(day)))).status).toBe("ok")
  expect((await readiness()).status).toBe("ok")
}, 60_000)
