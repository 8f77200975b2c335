/**
 * The accounting panel in a real headless Chromium against the real app: a month is closed through
 * the dashboard (with its confirmation dialog), a late event for a closed day is re-run, and the
 * next month's page shows the adjustment; the printable statement shows the same figures.
 */
import * as Fs from "node:fs"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, type OfflineContext, offlineContext, screenshotDir } from "../support/chromium.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"
import { previousTable } from "../support/summarySeed.js"

const LUKASZ = "Łukasz Żółć"
const HAIKU = "anthropic/claude-haiku-4.5"
const shots = screenshotDir()
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
let browser: Browser
let nbp: NbpStandIn
let app: TestApp
let session: OfflineContext
let seq = 0

const send = async (at: string, cost: string) => {
  const res = await postWebhook(app.url, deliveryOf({ id: `gen-dash-acc-${++seq}`, at, user: LUKASZ, model: HAIKU, cost }))
  expect(res.status).toBe(200)
}
const run = async (q: string) => {
  const res = await fetch(`${app.url}/api/v1/admin/batch/run?${q}`, { method: "POST", headers: admin })
  expect(res.status).toBe(200)
}

const login = () => loggedInPage(session, app.url)
const openMonth = async (page: Page, month: string) => {
  await page.goto(`${app.url}/?month=${month}`)
  await page.locator("#month-status").waitFor()
}

beforeAll(async () => {
  ;[browser, nbp] = await Promise.all([launchChromium(), startNbpStandIn()])
  app = await startApp({ NBP_API_URL: nbp.url })
  await send("2025-11-03T09:00:00.000Z", "0.25")
  await run("from=2025-11-01&to=2025-11-30")
  session = await offlineContext(browser, app.url)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await nbp?.close()
  if (app !== undefined) Fs.rmSync(app.dataDir, { recursive: true, force: true })
})

describe("closing a month on the dashboard", () => {
  it("asks for confirmation, closes the month, and the next month shows the later adjustment", async () => {
    const page = await login()
    await openMonth(page, "2025-11")
    expect(await page.locator("#month-status").innerText()).toBe("Open")

    // Cancel leaves the month open.
    await page.getByRole("button", { name: "Close month" }).click()
    await expect.poll(() => page.locator("#close-dialog").evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(true)
    await page.locator("#close-cancel").click()
    const months0 = await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json() as any
    expect(months0.closed).toEqual([])

    await page.getByRole("button", { name: "Close month" }).click()
    await page.getByLabel("Reason").fill("invoice FV/11/2025")
    await page.getByRole("button", { name: "Close 2025-11" }).click()
    await page.waitForURL(/month=2025-11/)
    await page.locator("#month-status", { hasText: "Closed" }).waitFor()
    expect(await page.locator("#month-state").innerText()).toContain("by dashboard (invoice FV/11/2025)")
    const months = await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json() as any
    expect(months.closed).toHaveLength(1)
    expect(months.closed[0]).toMatchObject({ month: "2025-11", closedBy: "dashboard", reason: "invoice FV/11/2025" })
    expect(await page.locator("#closing-record").innerText()).toContain(months.closed[0].statementSha256)
    expect(await page.locator("#close-month").count()).toBe(0)
    await page.screenshot({ path: `${shots}accounting-closed.png`, fullPage: true })

    // A late event for the closed day, then the day re-run: November stays, December gains the difference.
    await send("2025-11-03T15:00:00.000Z", "0.5")
    await run("date=2025-11-03")
    const table = previousTable("2025-11-03")
    const diff = (Number(expectedPln(nanoUsd("0.75"), "1.3", table.mid).replace(".", "")) -
      Number(expectedPln(nanoUsd("0.25"), "1.3", table.mid).replace(".", ""))) / 100
    const diffPl = diff.toFixed(2).replace(".", ",") + "\u00a0zł"

    await openMonth(page, "2025-11")
    expect(await page.locator("#adjustments").isHidden()).toBe(true)
    expect(await page.locator("#corrections-table").innerText()).toContain("2025-11-03")
    expect(await page.locator("#corrections-table").innerText()).toContain("corrected at")

    await openMonth(page, "2025-12")
    await page.locator("#adjustments-table").waitFor()
    const rows = await page.locator("#adjustments-table tbody tr").allInnerTexts()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain("2025-11-03")
    expect(rows[0]).toContain(LUKASZ)
    expect(rows[0]).toContain(diffPl)
    expect(await page.locator("#adjustments h2").innerText()).toBe("Adjustments for earlier months")
    expect(await page.locator("#empty-state").innerText()).toContain("has adjustments for earlier months")
    // December's total includes the adjustment (it has no usage of its own).
    expect(await page.locator("#total-pln").innerText()).toBe(diffPl)
    await page.screenshot({ path: `${shots}accounting-adjustments.png`, fullPage: true })

    // The printable statement of December shows the same figures.
    await page.getByRole("link", { name: "Printable statement" }).click()
    await page.locator("#statement-adjustments").waitFor()
    expect(await page.locator("#statement-adjustments tbody").innerText()).toContain(diff.toFixed(2))
    expect(await page.locator("#statement-total-pln").innerText()).toBe(`PLN ${diff.toFixed(2)}`)
    expect(await page.locator("#statement-status").innerText()).toBe("open")
    expect(session.blocked).toEqual([])
  })
})
