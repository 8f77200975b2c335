/**
 * Budgets end to end: the app in-process beside the NBP stand-in, a real mail server (OpenSMTPD),
 * a webhook receiver that verifies each body's signature, and Open WebUI's directory in a real
 * SQLite file. Deliveries for a user cross 50, 80 and 100 % of her budget (set by e-mail, while
 * OpenRouter's `user` is her Open WebUI id): exactly three alerts, each once, by webhook and by
 * e-mail, in Polish; the first webhook attempt fails and is retried, and both attempts are recorded
 * and counted. A closed month's figures stay as they were after its budgets are evaluated.
 */
import { BigDecimal } from "effect"
import * as Crypto from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { costPln, formatDecimal, parseNanoUsd, roundHalfUp } from "../../src/domain/Money.js"
import { monthOf, warsawDay } from "../../src/domain/WarsawDay.js"
import { asAdmin, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { type MailServer, startMailServer, startWebhookReceiver, type WebhookReceiver } from "../support/mailServer.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { PEOPLE, sqliteWebUi } from "../support/openWebUi.js"
import { generationDelivery } from "../support/otlp.js"

const SECRET = "alert-webhook-secret-0123456789"
const anna = PEOPLE[0]
let app: TestApp
let nbp: NbpStandIn
let mail: MailServer
let hook: WebhookReceiver

const admin = (path: string, init: RequestInit = {}) =>
  fetch(app.url + path, { ...init, headers: { ...asAdmin.headers, "content-type": "application/json", ...(init.headers ?? {}) } })

/** The directory is read at start in the background: wait until /ready says it is read. */
export const waitForDirectory = async (app: TestApp) => {
  let last: unknown
  for (let i = 0; i < 100; i++) {
    last = ((await (await fetch(app.url + "/ready", asAdmin)).json()) as any).checks.directory
    if ((last as any)?.status === "ok") return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the directory was not read: ${JSON.stringify(last)}`)
}

const waitFor = async <A>(what: string, f: () => A | undefined | false, ms = 20_000): Promise<A> => {
  const until = Date.now() + ms
  for (;;) {
    const v = f()
    if (v !== undefined && v !== false) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const post = async (id: string, cost: string, time = new Date()) => {
  const res = await postWebhook(app.url, generationDelivery({ id, time, user: anna.id, model: "openai/gpt-4o", inputTokens: 100, outputTokens: 10, cost: Number(cost) }))
  expect(await res.json()).toMatchObject({ accepted: 1 })
}

const latest = () => fixtureTables()[fixtureTables().length - 1]
const pln = (usd: string) =>
  costPln(parseNanoUsd(usd).pipe((e) => (e._tag === "Right" ? e.right : 0n)), BigDecimal.unsafeFromString("1.3"), BigDecimal.unsafeFromString(latest().mid))

beforeAll(async () => {
  ;[mail, hook, nbp] = await Promise.all([startMailServer(), startWebhookReceiver(SECRET), startNbpStandIn()])
  const webui = sqliteWebUi("group_member")
  app = await startApp({
    NBP_API_URL: nbp.url,
    DATABASE_URL: webui.url,
    ALERT_WEBHOOK_URL: hook.url,
    ALERT_WEBHOOK_SECRET: SECRET,
    SMTP_URL: mail.url,
    ALERT_EMAIL_TO: "admin@klient.example.pl",
    CLIENT_NAME: "Klient Testowy sp. z o.o."
  })
  await waitForDirectory(app)
})
afterAll(async () => {
  await app?.close()
  await Promise.all([mail?.stop(), hook?.close(), nbp?.close()])
})

describe("a user's budget crossed at 50, 80 and 100 %", () => {
  it("sends exactly three alerts, each once, signed to the webhook and by e-mail, in Polish; a failed attempt is retried and recorded", async () => {
    // The amount such that 10, 15 and 19 USD of usage are about 55, 83 and 105 % of it.
    const amount = formatDecimal(roundHalfUp(BigDecimal.unsafeDivide(pln("19"), BigDecimal.unsafeFromString("1.05")), 2), 2)
    const put = await admin("/api/v1/admin/budgets", {
      method: "PUT",
      body: JSON.stringify({ scope: "user", subject: anna.email, amountPln: amount })
    })
    expect(put.status, await put.clone().text()).toBe(200)
    expect(await put.json()).toMatchObject({ scope: "user", subject: anna.email, name: anna.name, thresholds: [50, 80, 100] })

    hook.failNext(1)
    const steps: Array<[string, string, number]> = [["gen-b-1", "10", 50], ["gen-b-2", "5", 80], ["gen-b-3", "4", 100]]
    let usd = 0
    for (const [id, cost, threshold] of steps) {
      await post(id, cost)
      usd += Number(cost)
      const evaluation = (await (await admin("/api/v1/admin/budgets/evaluate", { method: "POST" })).json()) as any
      const status = evaluation.budgets[0]
      expect(evaluation.month).toBe(monthOf(warsawDay(Date.now())))
      expect(status.spendPln).toBe(formatDecimal(pln(String(usd)), 2))
      expect(status.alerted).toEqual([threshold])
      // Evaluated again at once: nothing new.
      const again = (await (await admin("/api/v1/admin/budgets/evaluate", { method: "POST" })).json()) as any
      expect(again.budgets[0].alerted).toEqual([])
      await waitFor(`the ${threshold} % webhook`, () => hook.received.some((b) => b.threshold === threshold))
      await waitFor(`the ${threshold} % e-mail`, () => mail.messages().some((m) => m.subject.includes(`${threshold} %`)))
    }
    expect(hook.received.map((b) => b.threshold)).toEqual([50, 80, 100])
    expect(hook.badSignatures()).toBe(0)
    const last = hook.received[2]
    expect(last).toMatchObject({ scope: "user", subject: anna.email, name: anna.name, month: monthOf(warsawDay(Date.now())), amountPln: amount })
    expect(last.text).toContain(`Budżet użytkownika ${anna.name} (${anna.email})`)
    expect(last.text).toContain("osiągnięto 100 %")
    const messages = mail.messages()
    expect(messages).toHaveLength(3)
    expect(messages.map((m) => m.to)).toEqual(["admin@klient.example.pl", "admin@klient.example.pl", "admin@klient.example.pl"])
    expect(messages.map((m) => /: (\d+) %/.exec(m.subject)?.[1]).sort()).toEqual(["100", "50", "80"])
    expect(messages.find((m) => m.subject.includes("100 %"))!.body).toContain("Budżet na ten miesiąc został wyczerpany")

    // Every attempt is recorded: the 50 % webhook failed once (HTTP 500) and was sent on retry.
    const alerts = (await (await admin("/api/v1/admin/budgets/alerts")).json()) as any
    expect(alerts.channels).toEqual(["webhook", "email"])
    expect(alerts.alerts.map((a: any) => a.threshold)).toEqual([100, 80, 50])
    const first = alerts.alerts[2]
    expect(first.attempts.filter((t: any) => t.channel === "webhook").map((t: any) => [t.attempt, t.status, t.error])).toEqual([
      [1, "failed", "the webhook answered HTTP 500"],
      [2, "sent", null]
    ])
    for (const a of alerts.alerts) expect(a.attempts.filter((t: any) => t.status === "sent").map((t: any) => t.channel).sort()).toEqual(["email", "webhook"])

    const metrics = await (await fetch(app.url + "/metrics")).text()
    expect(metrics).toContain('mai_alert_attempts_total{channel="webhook",status="sent"} 3')
    expect(metrics).toContain('mai_alert_attempts_total{channel="webhook",status="failed"} 1')
    expect(metrics).toContain('mai_alert_attempts_total{channel="email",status="sent"} 3')
  }, 60_000)
})

describe("a closed month", () => {
  it("keeps its figures when its budgets are evaluated as at its end", async () => {
    // A month the NBP fixtures cover: every day billed (only the 15th has usage), then closed.
    const month = "2025-11"
    await post("gen-closed-1", "3", new Date(`${month}-15T10:00:00.000Z`))
    const run = await admin(`/api/v1/admin/batch/run?from=${month}-01&to=${month}-30`, { method: "POST" })
    expect(run.status, await run.clone().text()).toBe(200)
    const closed = await admin(`/api/v1/admin/months/${month}/close?acceptUnreconciled=true&reason=test`, { method: "POST" })
    expect(closed.status).toBe(200)
    const before = (await closed.json()) as any
    // the canonical CSV (English, default dialect) is the one the close hashed
    const statementBefore = await (await admin(`/api/v1/statements/${month}?format=csv&lang=en`)).text()
    await admin("/api/v1/admin/budgets", { method: "PUT", body: JSON.stringify({ scope: "client", amountPln: "1" }) })
    const evaluation = (await (await admin(`/api/v1/admin/budgets/evaluate?month=${month}`, { method: "POST" })).json()) as any
    const client = evaluation.budgets.find((b: any) => b.budget.scope === "client")
    expect(client.alerted).toEqual([50, 80, 100])
    expect(evaluation.indicativeDays).toEqual([])
    const statementAfter = await (await admin(`/api/v1/statements/${month}?format=csv&lang=en`)).text()
    expect(statementAfter).toBe(statementBefore)
    expect(Crypto.createHash("sha256").update(statementAfter).digest("hex")).toBe(before.statementSha256)
  }, 60_000)
})

describe("a delivery cut short by a restart", () => {
  it("is resumed by the next start, its attempts continuing", async () => {
    const dataDir = tempDir()
    const down = await startWebhookReceiver(SECRET)
    const downUrl = down.url
    await down.close() // nothing listens there now: the first attempt fails
    const vars = { DATA_DIR: dataDir, NBP_API_URL: nbp.url, ALERT_WEBHOOK_SECRET: SECRET }
    const first = await startApp({ ...vars, ALERT_WEBHOOK_URL: downUrl })
    const put = (a: TestApp, body: object) =>
      fetch(a.url + "/api/v1/admin/budgets", { method: "PUT", headers: { ...asAdmin.headers, "content-type": "application/json" }, body: JSON.stringify(body) })
    expect((await put(first, { scope: "user", subject: "restart@example.pl", amountPln: "0.01", thresholds: [100] })).status).toBe(200)
    const res = await postWebhook(first.url, generationDelivery({ id: "gen-restart-1", time: new Date(), user: "restart@example.pl", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1, cost: 1 }))
    expect(res.status).toBe(200)
    await fetch(first.url + "/api/v1/admin/budgets/evaluate", { ...asAdmin, method: "POST" })
    const attempts = async (a: TestApp) =>
      (((await (await fetch(a.url + "/api/v1/admin/budgets/alerts", asAdmin)).json()) as any).alerts[0]?.attempts ?? []) as Array<any>
    for (let i = 0; i < 100 && (await attempts(first)).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    await first.close() // stops the retries

    const up = await startWebhookReceiver(SECRET)
    const second = await startApp({ ...vars, ALERT_WEBHOOK_URL: up.url })
    try {
      await waitFor("the resumed delivery", () => up.received.length > 0)
      expect(up.received.map((b) => [b.subject, b.threshold])).toEqual([["restart@example.pl", 100]])
      const after = await attempts(second)
      expect(after[0]).toMatchObject({ channel: "webhook", attempt: 1, status: "failed" })
      expect(after[after.length - 1]).toMatchObject({ channel: "webhook", status: "sent", error: null })
      expect(after[after.length - 1].attempt).toBe(after.length)
    } finally {
      await second.close()
      await up.close()
    }
  }, 60_000)
})
