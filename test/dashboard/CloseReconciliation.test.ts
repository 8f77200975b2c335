/**
 * Reconcile before you invoice, on the dashboard in a real Chromium: with reconciliation
 * configured, closing a month with a day OpenRouter counted more on (and days never reconciled) is
 * refused in the dialog, naming the days; ticked "close despite…" with a reason, it closes, and the
 * closing record, the audit log and the statement say what was accepted.
 */
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, type OfflineContext, offlineContext, screenshotDir } from "../support/chromium.js"
import { previousMonthWithMissingDay, waitForStartupRound } from "../support/openRouterApp.js"
import { API_KEY, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const shots = screenshotDir()
// A day of the month OpenRouter counts one request on that never reached the ledger.
const { month: MONTH, last: LAST, missing: MISSING } = previousMonthWithMissingDay()

let browser: Browser
let or: OpenRouterStandIn
let app: TestApp
let session: OfflineContext

beforeAll(async () => {
  ;[browser, or] = await Promise.all([launchChromium(), startOpenRouterStandIn()])
  or.setActivity(MISSING, [{ model: "openai/gpt-4o", requests: 1, usage: 0.5 }])
  app = await startApp({ OPENROUTER_API_URL: or.url, OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY, OPENROUTER_API_KEY: API_KEY })
  await waitForStartupRound(app)
  // Every day of the month billed (no usage: no rate needed).
  const run = await fetch(`${app.url}/api/v1/admin/batch/run?from=${MONTH}-01&to=${LAST}`, { method: "POST", headers: admin })
  expect(run.status).toBe(200)
  session = await offlineContext(browser, app.url)
}, 90_000)
afterAll(async () => {
  await browser?.close()
  await app?.close()
  await or?.close()
})

const openMonth = async (page: Page, lang: "en" | "pl") => {
  await page.goto(`${app.url}/?month=${MONTH}&lang=${lang}`)
  await page.locator("#month-status").waitFor()
}

describe("closing a month that reconciliation has not cleared", () => {
  it("is refused in the dialog naming the days; accepted with a reason, the acceptance is on the record and the statement", async () => {
    const page = await loggedInPage(session, app.url)
    await page.setViewportSize({ width: 1400, height: 900 })
    await openMonth(page, "en")
    expect(await page.locator("#invoice-draft").count()).toBe(0)
    await page.getByRole("button", { name: "Close month" }).click()
    await page.getByLabel("Reason (optional").fill("OpenRouter confirmed the gap by e-mail")
    await page.getByRole("button", { name: `Close ${MONTH}` }).click()
    const error = page.locator("#close-error")
    await error.waitFor({ state: "visible" })
    const refused = await error.innerText()
    expect(refused).toContain(`cannot close ${MONTH}: OpenRouter counted requests the ledger never received on ${MISSING}`)
    expect(refused).toContain("--accept-unreconciled")
    await page.screenshot({ path: `${shots}close-refused-reconciliation.png` })
    const open = (await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json()) as any
    expect(open.closed).toEqual([])

    await page.getByLabel("Close despite days not reconciled").check()
    await page.getByRole("button", { name: `Close ${MONTH}` }).click()
    await page.locator("#month-status", { hasText: "Closed" }).waitFor()
    const record = await page.locator("#closing-record").innerText()
    expect(record).toContain("Reconciliation with OpenRouter")
    expect(record).toContain(`accepted unreconciled: OpenRouter counted requests the ledger never received on ${MISSING}`)
    await page.screenshot({ path: `${shots}close-accepted-reconciliation.png`, fullPage: true })
    // The closed month offers its FA(3) draft (an open one does not).
    expect(await page.locator("#invoice-draft").getAttribute("href")).toBe(`/api/v1/invoices/${MONTH}/fa3.xml`)

    const months = (await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json()) as any
    expect(months.closed[0]).toMatchObject({ month: MONTH, closedBy: "dashboard", reason: "OpenRouter confirmed the gap by e-mail" })
    expect(months.closed[0].reconciliation).toContain(`never received on ${MISSING}`)
    expect(months.audit[0].reconciliation).toBe(months.closed[0].reconciliation)
    const csv = await (await fetch(`${app.url}/api/v1/statements/${MONTH}?format=csv&lang=en`, { headers: admin })).text()
    expect(csv.split("\r\n").find((l) => l.startsWith("reconciliation,"))).toMatch(new RegExp(`^reconciliation,+"?accepted unreconciled: OpenRouter counted requests the ledger never received on ${MISSING}`))
    // The Polish statement (the default) says it in Polish.
    const polish = await (await fetch(`${app.url}/api/v1/statements/${MONTH}?format=csv`, { headers: admin })).text()
    expect(polish.split("\r\n").find((l) => l.startsWith("uzgodnienie,"))).toMatch(
      new RegExp(`^uzgodnienie,+"?zamknięto mimo braku uzgodnienia: OpenRouter policzył zapytania, których rejestr nie otrzymał: ${MISSING}`)
    )

    // The same record in Polish and in English, at desktop and phone width.
    for (const [width, lang] of [[1400, "pl"], [390, "pl"], [390, "en"]] as const) {
      await page.setViewportSize({ width, height: 900 })
      await openMonth(page, lang)
      expect(await page.locator("#closing-record").innerText()).toContain(lang === "pl" ? "Uzgodnienie z OpenRouter" : "Reconciliation with OpenRouter")
      await page.screenshot({ path: `${shots}close-accepted-reconciliation-${lang}-${width}.png` })
    }
  }, 60_000)
})
