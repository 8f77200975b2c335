/**
 * `mai-usage budget set|list|remove|evaluate` as a process (dist/): the budgets in the summary DB of
 * DATA_DIR, names from Open WebUI's SQLite file, and `evaluate` sending what is due to a webhook
 * receiver that verifies the signature, waiting for the delivery before it exits. Bad input is
 * refused with one line and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseVars, postWebhook, startApp, tempDir } from "../support/app.js"
import { startWebhookReceiver, type WebhookReceiver } from "../support/mailServer.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { PEOPLE, sqliteWebUi } from "../support/openWebUi.js"
import { generationDelivery } from "../support/otlp.js"
import { bareEnv, runCli } from "../support/process.js"

const SECRET = "alert-webhook-secret-0123456789"
let env: Record<string, string>
let hook: WebhookReceiver
let nbp: NbpStandIn

beforeAll(async () => {
  ;[hook, nbp] = await Promise.all([startWebhookReceiver(SECRET), startNbpStandIn()])
  const dataDir = tempDir()
  env = {
    ...bareEnv(),
    ...baseVars(dataDir),
    NBP_API_URL: nbp.url,
    DATABASE_URL: sqliteWebUi("user_ids").url,
    ALERT_WEBHOOK_URL: hook.url,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_LANGUAGE: "en"
  }
  // Jan's usage today, through the real webhook into the ledger of DATA_DIR.
  const app = await startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url })
  const res = await postWebhook(app.url, generationDelivery({ id: "gen-cli-1", time: new Date(), user: PEOPLE[1].email, model: "openai/gpt-4o", inputTokens: 10, outputTokens: 5, cost: 2 }))
  expect(res.status).toBe(200)
  await app.close()
})
afterAll(async () => {
  await Promise.all([hook?.close(), nbp?.close()])
})

describe("mai-usage budget", () => {
  it("sets, lists with the directory's names, evaluates and sends, and removes", async () => {
    const set = await runCli(["budget", "set", "user", PEOPLE[1].id, "--amount", "1", "--thresholds", "100,50"], env)
    expect(set.stderr).toBe("")
    expect(set.stdout.trim()).toBe(`set: user ${PEOPLE[1].id} (Jan Nowak, jan.nowak@example.pl): PLN 1.00 a month, alerts at 50 %, 100 %`)
    expect((await runCli(["budget", "list"], env)).stdout.trim()).toBe(
      `user ${PEOPLE[1].id} (Jan Nowak, jan.nowak@example.pl): PLN 1.00 a month, alerts at 50 %, 100 %`
    )

    const evaluated = await runCli(["budget", "evaluate"], env)
    expect(evaluated.code, evaluated.stderr).toBe(0)
    expect(evaluated.stdout).toMatch(/reached 50 %, 100 %; alerted now: 50 %, 100 %/)
    expect(evaluated.stdout).toContain("  50 % webhook attempt 1: sent")
    expect(evaluated.stdout).toContain("  100 % webhook attempt 1: sent")
    expect(hook.received.map((b) => b.threshold).sort()).toEqual([100, 50])
    expect(hook.received.find((b) => b.threshold === 100)!.text).toMatch(/^Budget of user Jan Nowak \(jan\.nowak@example\.pl\) for \d{4}-\d{2}: 100 % reached/)

    // Once per month: a second evaluation sends nothing.
    const again = await runCli(["budget", "evaluate"], env)
    expect(again.stdout).not.toContain("alerted now")
    expect(hook.received).toHaveLength(2)

    const removed = await runCli(["budget", "remove", "user", PEOPLE[1].id], env)
    expect(removed.stdout.trim()).toBe(`removed the user budget of ${PEOPLE[1].id}`)
    expect((await runCli(["budget", "list"], env)).stdout.trim()).toBe("no budgets")
  }, 60_000)

  it("refuses bad input with one line and exit 1 or 2, changing nothing", async () => {
    const bad = await runCli(["budget", "set", "client", "--amount", "12.345"], env)
    expect([bad.code, bad.stderr.trim()]).toEqual([1, "budget set: the amount must be PLN with at most 2 decimals, e.g. 2000 or 2000.50; got \"12.345\""])
    const month = await runCli(["budget", "evaluate", "--month", "2025-13"], env)
    expect([month.code, month.stderr.trim()]).toEqual([2, "budget evaluate: invalid month \"2025-13\": expected YYYY-MM"])
    const missing = await runCli(["budget", "remove", "group", "Sprzedaż"], env)
    expect([missing.code, missing.stderr.trim()]).toEqual([1, "budget remove: no group budget for \"Sprzedaż\""])
    expect((await runCli(["budget", "list"], env)).stdout.trim()).toBe("no budgets")
  }, 60_000)
})
