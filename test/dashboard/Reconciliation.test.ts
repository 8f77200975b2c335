/**
 * The reconciliation panel and the key drift in a real headless Chromium against the real app,
 * with OpenRouter's stand-in knowing one request more than was delivered.
 */
import { Effect } from "effect"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, expect, it } from "vitest"
import { takeSnapshot } from "../../src/openrouter/KeyDrift.js"
import { Reconciler } from "../../src/openrouter/Reconciler.js"
import { postWebhook, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, offlineContext, screenshotDir } from "../support/chromium.js"
import { API_KEY, API_KEY_NAME, MANAGEMENT_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { waitForStartupRound } from "../support/openRouterApp.js"
import { generationDelivery } from "../support/otlp.js"

let browser: Browser
let or: OpenRouterStandIn
let app: TestApp
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const MISSING_DAY = utc(Date.now() - 2 * 86_400_000)
const DOWN_DAY = utc(Date.now() - 3 * 86_400_000)
/** The panel shows the chosen month's days: open the month of `day`. */
const monthOf = (day: string) => day.slice(0, 7)
const run = <A>(e: Effect.Effect<A, any, any>) => app.runtime.runPromise(e as Effect.Effect<A, any, never>)

beforeAll(async () => {
  ;[browser, or] = await Promise.all([launchChromium(), startOpenRouterStandIn()])
  app = await startApp({ OPENROUTER_API_URL: or.url, OPENROUTER_MANAGEMENT_KEY: MANAGEMENT_KEY, OPENROUTER_API_KEY: API_KEY })
  await waitForStartupRound(app)
  // OpenRouter counts 2 requests of 0.0125 + 0.0375; only the first was delivered.
  or.setActivity(MISSING_DAY, [{ model: "openai/gpt-4o", requests: 2, usage: 0.05 }])
  const res = await postWebhook(app.url, generationDelivery({
    id: "gen-dash-rec-1",
    time: new Date(`${MISSING_DAY}T10:00:00Z`),
    user: "anna.kowalska@example.pl",
    model: "openai/gpt-4o",
    inputTokens: 10,
    outputTokens: 5,
    cost: 0.0125,
    apiKeyName: API_KEY_NAME
  }))
  expect(res.status).toBe(200)
  expect((await run(Effect.flatMap(Reconciler, (r) => r.reconcile(MISSING_DAY)))).status).toBe("missing")
  or.setFailure(503)
  expect((await run(Effect.flatMap(Reconciler, (r) => r.reconcile(DOWN_DAY)))).status).toBe("unavailable")
  or.setFailure(null)
  // Key drift: OpenRouter says the key spent 0.80 USD today; the ledger received 0.75.
  await postWebhook(app.url, generationDelivery({
    id: "gen-dash-rec-today",
    time: new Date(),
    user: "anna.kowalska@example.pl",
    model: "openai/gpt-4o",
    inputTokens: 10,
    outputTokens: 5,
    cost: 0.75,
    apiKeyName: API_KEY_NAME
  }))
  or.setKeyUsage(12.5, 0.8)
  await run(takeSnapshot)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await or?.close()
})

it("shows the missing day with its requests and USD, the unavailable day, the last check and the drift", async () => {
  const ctx = await offlineContext(browser, app.url)
  const page = await loggedInPage(ctx, app.url)
  await page.goto(`${app.url}/?lang=en&month=${monthOf(DOWN_DAY)}`) // the panel's own labels are English
  await page.locator(`#reconciliation-summary[data-month="${monthOf(DOWN_DAY)}"]`).waitFor()
  const down = page.locator(`#reconciliation-table tr[data-date="${DOWN_DAY}"]`)
  expect(await down.innerText()).toMatch(/unavailable: OpenRouter answered GET \/activity with 503/)
  await page.goto(`${app.url}/?lang=en&month=${monthOf(MISSING_DAY)}`)
  await page.locator(`#reconciliation-summary[data-month="${monthOf(MISSING_DAY)}"]`).waitFor()

  const missing = page.locator(`#reconciliation-table tr[data-date="${MISSING_DAY}"]`)
  await expect(missing.getAttribute("data-status")).resolves.toBe("missing")
  const text = await missing.innerText()
  // USD to the cent, the exact amount on hover.
  expect(text).toContain("missing 1 request, $0.04")
  expect(await missing.locator(".badge").getAttribute("title")).toBe("$0.0375")
  expect(text).toContain("openai/gpt-4o: missing 1 request")
  const summary = await page.locator("#reconciliation-summary").innerText()
  expect(summary).toContain("1 day differs")
  // It tells the client's admin what it means and whom to tell, not a file of the repository.
  expect(summary).toContain("Tell your service provider")
  expect(summary).not.toMatch(/docs\/|\.md\b/)
  expect(await page.locator("#reconciliation-last-check").innerText()).toMatch(/^Last check: \d/)

  await page.locator("#today-drift:not(:empty)").waitFor()
  const drift = await page.locator("#today-drift").innerText()
  expect(drift).toContain("$0.80")
  expect(drift).toContain("the ledger: $0.75")
  expect(drift).toContain("drift $0.05")

  await page.screenshot({ path: `${screenshotDir()}reconciliation.png`, fullPage: true })
  expect(ctx.blocked).toEqual([])
  await ctx.context.close()
})

it("is Polish by default: its labels, plurals, status lines and the drift, with no English label left", async () => {
  const ctx = await offlineContext(browser, app.url)
  const page = await loggedInPage(ctx, app.url)
  await page.goto(`${app.url}/?lang=pl&month=${monthOf(DOWN_DAY)}`)
  await page.locator(`#reconciliation-summary[data-month="${monthOf(DOWN_DAY)}"]`).waitFor()
  expect(await page.locator(`#reconciliation-table tr[data-date="${DOWN_DAY}"]`).innerText()).toMatch(/^.+\s+niedostępne: /m)
  await page.goto(`${app.url}/?lang=pl&month=${monthOf(MISSING_DAY)}`)
  await page.locator(`#reconciliation-summary[data-month="${monthOf(MISSING_DAY)}"]`).waitFor()
  await page.locator("#today-drift:not(:empty)").waitFor()

  const missing = await page.locator(`#reconciliation-table tr[data-date="${MISSING_DAY}"]`).innerText()
  expect(missing).toContain("brak: 1 zapytanie, 0,04\u00a0USD")
  expect(missing).toContain("openai/gpt-4o: brak: 1 zapytanie")
  expect(missing).toContain("rejestr 1")
  const summary = await page.locator("#reconciliation-summary").innerText()
  expect(summary).toContain("1 dzień różni się od danych OpenRouter")
  expect(summary).toContain("Przekaż to dostawcy usługi")
  expect(summary).not.toMatch(/docs\/|\.md\b/)
  expect(await page.locator("#reconciliation-last-check").innerText()).toMatch(/^Ostatnie sprawdzenie: \d/)
  const head = await page.locator("#reconciliation-table thead").innerText()
  expect(head).toMatch(/Dzień \(UTC\)\s+Wynik\s+Sprawdzono/)
  const drift = await page.locator("#today-drift").innerText()
  expect(drift).toContain("0,80\u00a0USD")
  expect(drift).toContain("rejestr: 0,75\u00a0USD")
  expect(drift).toContain("różnica 0,05\u00a0USD")

  // The day that could not be checked carries the server's (English) reason; everything else is Polish.
  const panel = (await page.locator("#reconciliation").innerText()).replace(/OpenRouter answered [^\n]*/g, "")
  for (const word of ["missing", "request", "differs", "Last check", "Day", "Result", "Checked", "unavailable", "ledger", "records"]) {
    expect(panel).not.toContain(word)
  }
  for (const word of ["the ledger", "drift", "as of", "count for the key"]) expect(drift).not.toContain(word)
  await ctx.context.close()
})

it("follows the chosen month at 1400 and 390 px, in both languages: its days, or none", async () => {
  const month = monthOf(MISSING_DAY)
  const name = (lang: "pl" | "en", m: string) =>
    new Date(`${m}-01T00:00:00Z`).toLocaleDateString(lang === "pl" ? "pl-PL" : "en-GB", { month: "long", year: "numeric", timeZone: "UTC" })
  for (const width of [1400, 390]) {
    for (const lang of ["pl", "en"] as const) {
      const ctx = await offlineContext(browser, app.url, { viewport: { width, height: 900 } })
      const page = await loggedInPage(ctx, app.url)
      await page.goto(`${app.url}/?lang=${lang}&month=${month}`)
      await page.locator(`#reconciliation-summary[data-month="${month}"]`).waitFor()
      expect(await page.locator("#reconciliation-h").innerText()).toContain(name(lang, month))
      const days = await page.locator("#reconciliation-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-date")))
      expect(days).toContain(MISSING_DAY)
      for (const d of days) expect(d!.startsWith(month), `${d} is a day of ${month}`).toBe(true)
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(width)
      await page.screenshot({ path: `${screenshotDir()}reconciliation-month-${lang}-${width}.png`, fullPage: true })

      // Another month (with the picker's previous-month button, twice): its own days, here none checked.
      await page.locator("#prev-month").click()
      await page.locator("#prev-month").click()
      const [y, m] = month.split("-").map(Number)
      const earlier = new Date(Date.UTC(y, m - 3, 1)).toISOString().slice(0, 7)
      await page.locator(`#reconciliation-summary[data-month="${earlier}"]`).waitFor()
      expect(await page.locator("#reconciliation-h").innerText()).toContain(name(lang, earlier))
      expect(await page.locator("#reconciliation-table").count()).toBe(0)
      expect(await page.locator("#reconciliation-summary").innerText()).toContain(
        lang === "pl" ? `${name(lang, earlier)}: żaden dzień nie został jeszcze porównany` : `No day of ${name(lang, earlier)} has been compared`
      )
      expect(ctx.blocked).toEqual([])
      await ctx.context.close()
    }
  }
})
