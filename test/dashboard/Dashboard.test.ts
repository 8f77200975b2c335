/**
 * The dashboard in a real headless Chromium (Debian's package, driven by playwright-core) against
 * the real app. The browser is cut off from everything but the app: any other request is aborted
 * and recorded, and the test asserts there was none. Screenshots go to test-output/.
 */
import * as Fs from "node:fs"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dailyRowColumns } from "../../src/api/UsageModel.js"
import { ADMIN_TOKEN, login as loginByForm, postWebhook, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, type OfflineContext, offlineContext, screenshotDir } from "../support/chromium.js"
import { csvObjects } from "../support/csv.js"
import { generationDelivery } from "../support/otlp.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { sampleRows, seedRows, seedRun, TRICKY_USER } from "../support/summarySeed.js"

const NBSP = "\u00a0"
/** What the Polish page shows: USD to the cent with a decimal comma and grouped thousands; dates. */
const plUsd = (text: string) => {
  const cents = BigInt(Math.round(Number(text) * 100)) // test-side only; the figures here are small
  const int = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, NBSP)
  return `${int},${String(cents % 100n).padStart(2, "0")}`
}
const plDay = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("pl-PL", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" })
const shots = screenshotDir()
let browser: Browser
let nbp: NbpStandIn
let app: TestApp
let session: OfflineContext

const api = async (path: string) => {
  const res = await fetch(app.url + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as any
}

const text = (page: Page, selector: string) => page.locator(selector).innerText()
const columnTexts = (page: Page, table: string, column: number) =>
  page.locator(`${table} tbody tr td:nth-child(${column})`).allInnerTexts()

const login = (ctx: OfflineContext) => loggedInPage(ctx, app.url)

const openMonth = async (page: Page, month: string) => {
  await page.goto(`${app.url}/?month=${month}`)
  await page.locator("#report:not([hidden]), #empty-state, #status .alert").first().waitFor()
}

beforeAll(async () => {
  ;[browser, nbp] = await Promise.all([launchChromium(), startNbpStandIn()])
  app = await startApp({ NBP_API_URL: nbp.url })
  seedRows(app.dataDir, sampleRows)
  seedRun(app.dataDir, {
    usageDate: "2025-11-04",
    status: "succeeded",
    startedAt: "2025-11-05T12:00:00.000Z",
    finishedAt: "2025-11-05T12:00:01.500Z",
    rowsWritten: 1
  })
  const res = await postWebhook(app.url, generationDelivery({
    id: "gen-dashboard-today",
    time: new Date(),
    user: "anna.kowalska@example.pl",
    model: "openai/gpt-4o",
    inputTokens: 1200,
    outputTokens: 300,
    cost: 0.75
  }))
  expect(res.status).toBe(200)
  session = await offlineContext(browser, app.url)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await nbp?.close()
})

describe("login", () => {
  it("refuses a wrong token with a clear message and sets no cookie", async () => {
    const ctx = await offlineContext(browser, app.url)
    const page = await ctx.context.newPage()
    await page.goto(app.url + "/?lang=en") // the login page is Polish by default
    await page.getByLabel("Admin token").fill("not-the-token")
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/login"), // the English form posts to /login?lang=en
      page.getByRole("button", { name: "Log in" }).click()
    ])
    expect(response.status()).toBe(401)
    await expect(page.getByRole("alert").innerText()).resolves.toMatch(/not valid/)
    expect(await ctx.context.cookies()).toEqual([])
    expect(await page.locator("#month").count()).toBe(0)
    await page.screenshot({ path: `${shots}dashboard-login-refused.png` })
    await ctx.context.close()
  })

  it("sets an HttpOnly, SameSite=Strict session cookie the page's script cannot read", async () => {
    const page = await login(session)
    const cookies = await session.context.cookies()
    expect(cookies).toHaveLength(1)
    // Named per client (organisation and port), holding a random session id, never the token.
    expect(cookies[0]).toMatchObject({ name: "mai_session_default_0", httpOnly: true, sameSite: "Strict", path: "/" })
    expect(cookies[0].value).not.toContain(ADMIN_TOKEN)
    expect(cookies[0].value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).toBe("")
    await page.locator("#month").waitFor()
    await page.close()
  })
})

describe("the month", () => {
  it("shows the same totals the API returns, PLN the Polish way and USD exact", async () => {
    const page = await session.context.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (e) => errors.push(e.message))
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())))
    await openMonth(page, "2025-10")
    const summary = await api("/api/v1/usage/summary?month=2025-10")
    expect(summary.totals.costPln).toBe("1161.48")
    expect(await text(page, "#total-pln")).toBe(`1${NBSP}161,48${NBSP}zł`)
    // USD rounded to the cent on screen, exact on hover.
    expect(await text(page, "#total-usd")).toBe(`${plUsd(summary.totals.costUsd)}${NBSP}USD`)
    expect(await page.locator("#total-usd").getAttribute("title")).toBe(`${summary.totals.costUsd.replace(".", ",")}${NBSP}USD`)
    expect(await text(page, "#total-requests")).toBe(String(summary.totals.requests))
    expect(await text(page, "#total-tokens")).toBe(`1${NBSP}148${NBSP}800`)
    expect(await text(page, "#month-name")).toBe("październik 2025")
    expect(await page.locator("html").getAttribute("lang")).toBe("pl")

    // Per day: each billed day with its NBP table and the table's date.
    const days = await page.locator("#days-table tbody tr").evaluateAll((trs: Array<any>) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td: any) => td.textContent))
    )
    expect(days).toEqual(summary.days.map((d: any) => [
      plDay(d.date),
      String(d.requests),
      d.totalTokens.toLocaleString("en-US").replace(/,/g, NBSP),
      `${plUsd(d.costUsd)}${NBSP}USD`,
      `${d.costPln.replace(".", ",").replace(/^(\d+)(\d{3}),/, `$1${NBSP}$2,`)}${NBSP}zł`,
      d.rateTable,
      plDay(d.rateDate),
      d.rate.replace(".", ",")
    ]))
    expect(days.map((d) => d[5])).toEqual(["192/A/NBP/2025", "193/A/NBP/2025", "195/A/NBP/2025"])

    // The chart: one bar per billed day, each titled with its figures.
    const bars = await page.locator("#chart svg rect.bar").evaluateAll((rs: Array<any>) =>
      rs.map((r) => [r.getAttribute("data-date"), r.querySelector("title")?.textContent])
    )
    expect(bars).toEqual(summary.days.map((d: any) => [d.date, expect.stringContaining(plDay(d.date))]))
    expect(await page.locator("#chart svg").getAttribute("aria-label")).toMatch(/najwyżej 1\u00a0101,91\u00a0zł dnia 7 paź 2025/)
    // A y axis with a few round ticks: 0 zł, 500 zł, 1 000 zł, 1 500 zł.
    expect(await page.locator("#chart svg text.tick").allTextContents()).toEqual(["0 zł", "500 zł", "1 000 zł", "1 500 zł"].map((s) => s.replace(/ /g, NBSP)))

    // The last batch run and today's not-yet-billed figures.
    expect(await text(page, "#batch-status")).toBe("zakończone powodzeniem")
    expect(await text(page, "#today-h")).toMatch(/jeszcze nierozliczone/)
    const today = await api("/api/v1/usage/today")
    expect(await text(page, "#today-usd")).toBe(`${plUsd(today.totals.costUsd)}${NBSP}USD`)
    expect(await text(page, "#today-pln")).toBe(`${today.totals.costPln.replace(".", ",")}${NBSP}zł`)

    await page.screenshot({ path: `${shots}dashboard-october.png`, fullPage: true })
    expect(errors).toEqual([]) // no script error, nothing refused by the Content-Security-Policy
    await page.close()
  })

  it("switches month with the picker and the previous/next buttons", async () => {
    const page = await session.context.newPage()
    await openMonth(page, "2025-10")
    await page.locator("#next-month").click()
    await expect.poll(() => text(page, "#month-name")).toBe("listopad 2025")
    const november = await api("/api/v1/usage/summary?month=2025-11")
    expect(await text(page, "#total-pln")).toBe(`${november.totals.costPln.replace(".", ",")}${NBSP}zł`)
    expect(await text(page, "#total-usd")).toBe(`${plUsd(november.totals.costUsd)}${NBSP}USD`)
    expect(new URL(page.url()).searchParams.get("month")).toBe("2025-11")

    await page.locator("#month").fill("2025-10")
    await page.locator("#month").dispatchEvent("change")
    await expect.poll(() => text(page, "#month-name")).toBe("październik 2025")
    expect(await text(page, "#total-pln")).toBe(`1${NBSP}161,48${NBSP}zł`)

    // A month without usage: a clear empty state instead of empty tables.
    await page.locator("#month").fill("2025-09")
    await page.locator("#month").dispatchEvent("change")
    await page.locator("#empty-state").waitFor()
    expect(await text(page, "#empty-state")).toMatch(/Brak rozliczonego użycia w miesiącu wrzesień 2025/)
    expect(await page.locator("#users-table").isVisible()).toBe(false)
    await page.screenshot({ path: `${shots}dashboard-empty-month.png`, fullPage: true })
    await page.close()
  })

  it("sorts the per-user table with the keyboard", async () => {
    const page = await session.context.newPage()
    await openMonth(page, "2025-10")
    const users = "#users-table"
    // Default: by PLN, highest first.
    expect(await columnTexts(page, users, 1)).toEqual(["anna.kowalska@example.pl", "bot-1", TRICKY_USER])
    expect(await page.locator(`${users} th[aria-sort]`).getAttribute("aria-sort")).toBe("descending")

    await page.locator(`${users} th button[data-key="user"]`).focus()
    await page.keyboard.press("Enter")
    expect(await columnTexts(page, users, 1)).toEqual(["anna.kowalska@example.pl", "bot-1", TRICKY_USER].sort((a, b) => a.localeCompare(b, "pl")))
    expect(await page.locator(`${users} th[aria-sort]`).innerText()).toMatch(/Użytkownik/)
    expect(await page.locator(`${users} th[aria-sort]`).getAttribute("aria-sort")).toBe("ascending")
    await page.keyboard.press("Space") // focus stays on the button: press again to reverse
    expect(await columnTexts(page, users, 1)).toEqual([TRICKY_USER, "bot-1", "anna.kowalska@example.pl"])

    await page.locator(`${users} th button[data-key="requests"]`).click()
    expect(await columnTexts(page, users, 2)).toEqual(["107", "52", "8"])
    await page.locator(`${users} th button[data-key="requests"]`).click()
    expect(await columnTexts(page, users, 2)).toEqual(["8", "52", "107"])
    await page.close()
  })

  it("downloads the month's CSV, equal to the API's rows: Polish Excel on the Polish page, plain CSV on the English one", async () => {
    const page = await session.context.newPage()
    // English: the plain CSV (comma, decimal point), equal to the API's rows.
    await page.goto(`${app.url}/?month=2025-10&lang=en`)
    await page.locator("#report:not([hidden])").waitFor()
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "All rows (day × user × model)" }).click()
    ])
    expect(download.suggestedFilename()).toBe("mai-usage_default_2025-10_rows.csv")
    const csv = Fs.readFileSync(await download.path(), "utf8")
    const { rows } = await api("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    expect(csvObjects(csv)).toEqual(rows.map((r: any) => Object.fromEntries(dailyRowColumns.map((c) => [c, String(r[c])]))))
    const [perUser] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Per user" }).click()])
    const users = csvObjects(Fs.readFileSync(await perUser.path(), "utf8"))
    expect(users.map((u) => [u.user, u.costPln])).toEqual(
      (await api("/api/v1/usage/summary?month=2025-10")).users.map((u: any) => [u.user, u.costPln])
    )

    // Polish: the Polish Excel dialect, byte for byte the API's excel-pl CSV of the same list.
    // (?lang=pl again: the English visit above was remembered in the language cookie.)
    await page.goto(`${app.url}/?month=2025-10&lang=pl`)
    await page.locator("#report:not([hidden])").waitFor()
    await page.locator("html[lang=pl]").waitFor()
    const [plRows] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Wszystkie wiersze (dzień × użytkownik × model)" }).click()
    ])
    const excel = Fs.readFileSync(await plRows.path())
    const fromApi = await fetch(`${app.url}/api/v1/usage/summary?month=2025-10&format=csv&list=rows&dialect=excel-pl&lang=pl`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
    })
    expect(excel.equals(Buffer.from(await fromApi.arrayBuffer()))).toBe(true)
    expect(excel.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true)
    expect(excel.toString("utf8").split("\r\n")[0]).toMatch(/^\uFEFFdata;użytkownik;model;zapytania;/)
    await page.close()
  })
})

describe("states", () => {
  it("says clearly when the API cannot be reached, and recovers on Retry", async () => {
    const page = await session.context.newPage()
    await page.route("**/api/v1/usage/**", (route) => route.abort("connectionrefused"))
    await page.goto(`${app.url}/?month=2025-10`)
    const alert = page.locator("#status [role=alert]")
    await alert.waitFor()
    expect(await alert.innerText()).toMatch(/Nie można połączyć się z API/)
    expect(await page.locator("#report").isHidden()).toBe(true)
    expect(await page.locator("#today-body [role=alert]").innerText()).toMatch(/Nie można połączyć się z API/)
    await page.screenshot({ path: `${shots}dashboard-api-unreachable.png`, fullPage: true })

    await page.unroute("**/api/v1/usage/**")
    await page.getByRole("button", { name: "Ponów" }).first().click()
    await expect.poll(() => text(page, "#total-pln")).not.toBe("")
    expect(await text(page, "#total-pln")).toBe(`1${NBSP}161,48${NBSP}zł`)
    await page.close()
  })

  it("says clearly when there is no data and no batch run yet", async () => {
    const fresh = await startApp()
    try {
      const ctx = await offlineContext(browser, fresh.url)
      const page = await loggedInPage(ctx, fresh.url)
      await page.goto(fresh.url + "/?lang=en")
      await page.locator("#empty-state").waitFor()
      expect(await text(page, "#empty-state")).toMatch(/No usage has been billed yet: no daily batch has run/)
      expect(await text(page, "#batch-body")).toMatch(/No batch run yet/)
      expect(await text(page, "#today-body")).toMatch(/No usage recorded today yet/)
      // No NBP here: today's PLN is absent, and the page says why.
      expect(await text(page, "#today-no-pln")).toMatch(/NBP rate is not available/)
      await page.screenshot({ path: `${shots}dashboard-fresh-install.png`, fullPage: true })
      expect(ctx.blocked).toEqual([])
      await ctx.context.close()
    } finally {
      await fresh.close()
    }
  })

  it("is readable at phone width: nothing wider than the screen", async () => {
    const ctx = await offlineContext(browser, app.url, { viewport: { width: 375, height: 812 } })
    const page = await login(ctx)
    await openMonth(page, "2025-10")
    await page.locator("#today-usd").waitFor()
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(375)
    await page.screenshot({ path: `${shots}dashboard-phone.png`, fullPage: true })
    await ctx.context.close()
  })

  it("logs out: the session ends on the server, the old cookie is refused, the login form is back", async () => {
    const ctx = await offlineContext(browser, app.url)
    const page = await login(ctx)
    await page.locator("#month").waitFor()
    const [old] = await ctx.context.cookies()
    const withOld = { headers: { cookie: `${old.name}=${old.value}` } }
    expect((await fetch(app.url + "/api/v1/usage/summary?month=2025-10", withOld)).status).toBe(200)

    await page.getByRole("button", { name: "Wyloguj" }).click()
    await page.locator("#token").waitFor()
    await page.goto(app.url + "/?lang=en") // the login page is Polish by default
    await page.getByLabel("Admin token").waitFor()
    expect(await ctx.context.cookies()).toEqual([])
    const res = await page.request.get(app.url + "/api/v1/usage/summary?month=2025-10")
    expect(res.status()).toBe(401)
    // A copy of the old cookie (kept by anyone who saw it) no longer opens anything.
    const replay = await fetch(app.url + "/api/v1/usage/summary?month=2025-10", withOld)
    expect(replay.status).toBe(401)
    expect(await replay.json()).toEqual({ error: "the dashboard session has ended; log in again" })
    expect(await (await fetch(app.url + "/?lang=en", withOld)).text()).toMatch(/Admin token/)
    await ctx.context.close()
  })
})

describe("languages and widths", () => {
  it("English with ?lang=en (remembered), Polish by default, a switch on the page; 1400 px and 390 px", async () => {
    for (const width of [1400, 390]) {
      const ctx = await offlineContext(browser, app.url, { viewport: { width, height: 900 } })
      const page = await login(ctx)
      await openMonth(page, "2025-10")
      await page.locator("#today-usd").waitFor()
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(width)
      // The totals never wrap, and PLN cells keep "zł".
      const usdBox = await page.locator("#total-usd").boundingBox()
      expect(usdBox!.height).toBeLessThan(40)
      for (const cell of await page.locator("#users-table td.num:last-child").allInnerTexts()) expect(cell).toMatch(/zł$/)
      await page.screenshot({ path: `${shots}dashboard-pl-${width}.png`, fullPage: true })

      await page.getByRole("link", { name: "English" }).click()
      await page.locator("html[lang=en]").waitFor()
      await openMonth(page, "2025-10") // the cookie keeps English
      expect(await page.locator("html").getAttribute("lang")).toBe("en")
      await expect.poll(() => text(page, "#month-name")).toBe("October 2025")
      const summary = await api("/api/v1/usage/summary?month=2025-10")
      expect(await text(page, "#total-pln")).toBe(`PLN${NBSP}1,161.48`)
      expect(await text(page, "#total-usd")).toBe(`$${plUsd(summary.totals.costUsd).replace(",", ".")}`)
      expect(await page.locator("#total-usd").getAttribute("title")).toBe(`$${summary.totals.costUsd}`)
      expect(await text(page, "#total-tokens")).toBe("1,148,800")
      // Every label in English, none left as a key.
      expect(await page.locator("#downloads a").allInnerTexts()).toEqual(["All rows (day × user × model)", "Per day", "Per user", "Per model", "NBP tables used"])
      expect(await page.getByRole("link", { name: "Today so far (CSV)" }).count()).toBe(1)
      expect(await columnTexts(page, "#days-table", 1)).toEqual(["6 Oct 2025", "7 Oct 2025", "9 Oct 2025"])
      expect(await page.locator("#chart svg text.tick").allTextContents()).toEqual(["PLN 0", "PLN 500", "PLN 1,000", "PLN 1,500"].map((s) => s.replace(/ /g, NBSP)))
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(width)
      await page.screenshot({ path: `${shots}dashboard-en-${width}.png`, fullPage: true })
      await page.getByRole("link", { name: "Polski" }).click()
      await page.locator("html[lang=pl]").waitFor()
      await ctx.context.close()
    }
  })
})

describe("no external network", () => {
  it("made every request to the app itself, and none elsewhere", () => {
    const origin = new URL(app.url).origin
    expect(session.requests.length).toBeGreaterThan(10)
    expect(session.blocked).toEqual([])
    for (const url of session.requests) expect(new URL(url).origin).toBe(origin)
    for (const path of ["/assets/dashboard.js", "/assets/dashboard.css", "/api/v1/usage/summary", "/api/v1/usage/today"]) {
      expect(session.requests.some((u) => new URL(u).pathname === path), path).toBe(true)
    }
  })

  it("would have caught one: a request elsewhere is aborted and recorded", async () => {
    const ctx = await offlineContext(browser, app.url)
    const page = await ctx.context.newPage()
    await expect(page.goto("https://cdn.example.com/chart.js")).rejects.toThrow()
    expect(ctx.blocked).toEqual(["https://cdn.example.com/chart.js"])
    await ctx.context.close()
  })

  it("forbids other origins in the page's Content-Security-Policy", async () => {
    const { cookie } = await loginByForm(app.url)
    const res = await fetch(app.url + "/", { headers: { cookie: cookie! } })
    const csp = res.headers.get("content-security-policy") ?? ""
    expect(csp).toMatch(/default-src 'none'/)
    expect(csp).toMatch(/script-src 'self'/)
    expect(csp).toMatch(/connect-src 'self'/)
    expect(await res.text()).not.toMatch(/(src|href)="https?:/)
  })
})
