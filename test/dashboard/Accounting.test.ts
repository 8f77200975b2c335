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
/** The dashboard at `month`: English (the assertions' labels) unless `lang` says otherwise. */
const openMonth = async (page: Page, month: string, lang: "en" | "pl" = "en") => {
  await page.goto(`${app.url}/?month=${month}&lang=${lang}`)
  await page.locator("#month-status").waitFor()
}
/**
 * English words of the accounting panels that must not appear on the Polish page (an adjustment's
 * reason is the batch's English text, shown in the page's language).
 */
const ENGLISH = ["Accounting period", "Open", "Closed", "Close month", "Printable statement", "Statement PDF",
  "Statement CSV", "Total when closed", "Adjustments", "Corrections", "corrected at", "Usage day", "Reason",
  "Requests", "Rate", "Total", "Cancel", "Figures", "freezes", "optional", "earlier months", "was closed", "different figures"]
const expectPolish = async (page: Page, selector: string) => {
  const text = await page.locator(selector).innerText()
  for (const word of ENGLISH) expect(text, `${selector} in Polish`).not.toMatch(new RegExp(`\\b${word}\\b`))
  return text
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
    await page.getByLabel("Your name").fill("Agnieszka Żurawska")
    await page.getByLabel("Reason (optional").fill("invoice FV/11/2025")
    await page.getByRole("button", { name: "Close 2025-11" }).click()
    await page.waitForURL(/month=2025-11/)
    await page.locator("#month-status", { hasText: "Closed" }).waitFor()
    expect(await page.locator("#month-state").innerText()).toContain("by Agnieszka Żurawska (dashboard) (invoice FV/11/2025)")
    const months = await (await fetch(`${app.url}/api/v1/admin/months`, { headers: admin })).json() as any
    expect(months.closed).toHaveLength(1)
    expect(months.closed[0]).toMatchObject({ month: "2025-11", closedBy: "dashboard", closerName: "Agnieszka Żurawska", reason: "invoice FV/11/2025" })
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
    expect(await page.locator("#corrections-table").innerText()).toContain("3 Nov 2025")
    expect(await page.locator("#corrections-table").innerText()).toContain("corrected at")
    // The same closed month in Polish (the default): its panels carry no English label.
    await openMonth(page, "2025-11", "pl")
    expect(await page.locator("#month-status").innerText()).toBe("Zamknięty")
    expect(await expectPolish(page, "#accounting")).toContain("Okres rozliczeniowy 2025-11")
    expect(await page.locator("#closing-record").innerText()).toContain("Suma w chwili zamknięcia")
    expect(await expectPolish(page, "#corrections")).toContain("Poprawki według dni")
    expect(await page.locator("#corrections-table").innerText()).toContain("poprawione ")
    expect(await page.getByRole("link", { name: "Zestawienie do druku" }).count()).toBe(1)

    // December in Polish (the default), where PLN is written the Polish way.
    await openMonth(page, "2025-12", "pl")
    await page.locator("#adjustments-table").waitFor()
    const rows = await page.locator("#adjustments-table tbody tr").allInnerTexts()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain("3 lis 2025")
    expect(rows[0]).toContain(LUKASZ)
    // The reason in Polish.
    expect(rows[0]).toMatch(/2025-11 był już zamknięty; przebieg nr \d+ \(API\) znalazł inne dane za 3 lis 2025/)
    expect(rows[0]).toContain(diffPl)
    // December's total includes the adjustment (it has no usage of its own).
    expect(await page.locator("#total-pln").innerText()).toBe(diffPl)
    expect(await page.locator("#adjustments h2").innerText()).toBe("Korekty za wcześniejsze miesiące")
    expect(await expectPolish(page, "#adjustments")).toContain("Powód")
    expect(await page.locator("#empty-state").innerText()).toContain("ma korekty za wcześniejsze miesiące")
    expect(await expectPolish(page, "#accounting")).toContain("Otwarty")
    await page.screenshot({ path: `${shots}accounting-adjustments.png`, fullPage: true })
    // Its confirmation dialog, in Polish too; cancelled.
    await page.getByRole("button", { name: "Zamknij miesiąc" }).click()
    await expect.poll(() => page.locator("#close-dialog").evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(true)
    const dialog = await expectPolish(page, "#close-dialog")
    expect(dialog).toContain("Zamknąć 2025-12?")
    expect(dialog).toContain(`razem ${diffPl}`)
    expect(await page.getByRole("button", { name: "Zamknij 2025-12" }).count()).toBe(1)
    await page.getByLabel("Powód").fill("x")
    await page.getByRole("button", { name: "Anuluj" }).click()

    // December in English.
    await openMonth(page, "2025-12")
    await page.locator("#adjustments-table").waitFor()
    expect(await page.locator("#adjustments h2").innerText()).toBe("Adjustments for earlier months")
    expect(await page.locator("#empty-state").innerText()).toContain("has adjustments for earlier months")

    // The printable statement of December shows the same figures.
    await page.getByRole("link", { name: "Printable statement" }).click()
    await page.locator("#statement-adjustments").waitFor()
    // (English: the dashboard's language, remembered.)
    expect(await page.locator("#statement-adjustments tbody").innerText()).toContain(`${diff.toFixed(2)}\u00a0PLN`)
    expect(await page.locator("#statement-total-pln").innerText()).toBe(`${diff.toFixed(2)}\u00a0PLN`)
    expect(await page.locator("#statement-status").innerText()).toBe("open (figures may still change)")
    expect(session.blocked).toEqual([])
  })
})
