/**
 * Names and groups from Open WebUI's directory on a real PostgreSQL (its own cluster, the newer
 * `group_member` layout) in the real app and a real headless Chromium: the people card (name and
 * e-mail beside each id, a user in two groups counted in both, and said so), its CSV, and the
 * budgets card (spend against the amount, an alert recorded, a budget set through the form), in
 * Polish and English, at 1400 and 390 px.
 */
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { asAdmin, postWebhook, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, offlineContext, screenshotDir } from "../support/chromium.js"
import { csvObjects } from "../support/csv.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { PEOPLE, type Postgres, startPostgres } from "../support/openWebUi.js"
import { generationDelivery } from "../support/otlp.js"

let browser: Browser
let pg: Postgres
let nbp: NbpStandIn
let app: TestApp
const [anna, jan] = PEOPLE

const admin = (path: string, init: RequestInit = {}) =>
  fetch(app.url + path, { ...init, headers: { ...asAdmin.headers, "content-type": "application/json", ...(init.headers ?? {}) } })

const post = async (id: string, user: string, cost: number, time: Date) => {
  const res = await postWebhook(app.url, generationDelivery({ id, time, user, model: "openai/gpt-4o", inputTokens: 100, outputTokens: 10, cost }))
  expect(res.status).toBe(200)
}

beforeAll(async () => {
  ;[browser, pg, nbp] = await Promise.all([launchChromium(), startPostgres(), startNbpStandIn()])
  const url = await pg.createWebUi("webui_dashboard", "group_member")
  app = await startApp({ NBP_API_URL: nbp.url, DATABASE_URL: url })
  for (let i = 0; ; i++) {
    const ready = (await (await fetch(app.url + "/ready", asAdmin)).json()) as any
    if (ready.checks.directory.status === "ok") break
    if (i > 100) throw new Error(`directory not read: ${JSON.stringify(ready.checks.directory)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const day = new Date("2025-11-10T10:00:00.000Z")
  await post("gen-p-1", anna.id, 2, day) // by id
  await post("gen-p-2", jan.email, 1, day) // by e-mail
  await post("gen-p-3", "bot-1", 0.5, day) // unknown to the directory
  await post("gen-p-today", anna.id, 1, new Date())
  expect((await admin("/api/v1/admin/batch/run?date=2025-11-10", { method: "POST" })).status).toBe(200)
  await admin("/api/v1/admin/budgets", { method: "PUT", body: JSON.stringify({ scope: "user", subject: anna.email, amountPln: "5" }) })
  await admin("/api/v1/admin/budgets", { method: "PUT", body: JSON.stringify({ scope: "group", subject: "Sprzedaż", amountPln: "1000" }) })
  expect((await admin("/api/v1/admin/budgets/evaluate", { method: "POST" })).status).toBe(200)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await Promise.all([pg?.stop(), nbp?.close()])
})

describe("the people report", () => {
  it("gives names and e-mails beside the ids, and per group counts a user in both of hers", async () => {
    const r = (await (await admin("/api/v1/people?month=2025-11")).json()) as any
    expect(r.directory).toMatchObject({ status: "ok", layout: "group_member", warning: null })
    expect(r.users.map((u: any) => [u.user, u.name, u.email, u.groups])).toEqual([
      [anna.id, "Anna Kowalska", anna.email, "IT; Sprzedaż"],
      [jan.email, "Jan Nowak", jan.email, "Sprzedaż"],
      ["bot-1", null, null, ""]
    ])
    const pln = Object.fromEntries(r.users.map((u: any) => [u.user, Number(u.costPln)]))
    const groups = Object.fromEntries(r.groups.map((g: any) => [g.group, g]))
    expect(groups["Sprzedaż"].users).toBe(2)
    expect(Number(groups["Sprzedaż"].costPln)).toBeCloseTo(pln[anna.id] + pln[jan.email], 2)
    expect(Number(groups["IT"].costPln)).toBeCloseTo(pln[anna.id], 2)
    expect(r.outsideGroups.users).toBe(1)
    expect(r.outsideGroups.costPln).toBe(r.users[2].costPln)

    const csv = csvObjects(await (await admin("/api/v1/people?month=2025-11&format=csv")).text())
    expect(csv.map((row) => [row.user, row.name, row.email, row.groups])).toEqual([
      [anna.id, "Anna Kowalska", anna.email, "IT; Sprzedaż"],
      [jan.email, "Jan Nowak", jan.email, "Sprzedaż"],
      ["bot-1", "", "", ""]
    ])
    const groupCsv = csvObjects(await (await admin("/api/v1/people?month=2025-11&format=csv&list=groups")).text())
    expect(groupCsv.map((row) => [row.group, row.users])).toEqual([["IT", "1"], ["Sprzedaż", "2"]])
  })
})

describe("the dashboard", () => {
  for (const lang of ["pl", "en"] as const) {
    for (const width of [1400, 390]) {
      it(`shows names, groups and budgets (${lang}, ${width} px)`, async () => {
        const ctx = await offlineContext(browser, app.url, { viewport: { width, height: 900 } })
        const page = await loggedInPage(ctx, app.url)
        await page.goto(`${app.url}/?lang=${lang}&month=2025-11`)
        await page.locator("#people-table").waitFor()
        await page.locator("#budgets-table").waitFor()
        await page.locator("#alerts-table").waitFor()
        // the month's users table shows the name and e-mail beside the id the usage carries
        await page.locator("#users-table", { hasText: "Anna Kowalska" }).waitFor()
        expect(await page.locator("#users-table").innerText()).toContain("Anna Kowalska · anna.kowalska@example.pl (3f1c2a9e-anna)")
        const people = await page.locator("#people-table").innerText()
        expect(people).toContain("Anna Kowalska")
        expect(people).toContain(anna.email)
        expect(people).toContain("Jan Nowak")
        expect(people).toContain("bot-1")
        expect(await page.locator("#groups-table").innerText()).toMatch(/Sprzedaż\s+2/)
        expect(await page.locator("#people-two-groups").innerText()).toBe(
          lang === "pl"
            ? "Osoba należąca do dwóch grup liczy się w obu, więc suma grup może przekraczać sumę miesiąca."
            : "A person in two groups counts in both, so the groups may add up to more than the month."
        )
        const budgets = await page.locator("#budgets-table").innerText()
        expect(budgets).toContain(lang === "pl" ? "Osoba: Anna Kowalska" : "Person: Anna Kowalska")
        expect(budgets).toContain(lang === "pl" ? "5,00\u00a0zł" : "PLN")
        expect(await page.locator("#alerts-table").innerText()).toContain("Anna Kowalska")
        await page.locator("#people").screenshot({ path: `${screenshotDir()}people-${lang}-${width}.png` })
        await page.locator("#users-table").screenshot({ path: `${screenshotDir()}users-names-${lang}-${width}.png` })
        await page.locator("#budgets").screenshot({ path: `${screenshotDir()}budgets-${lang}-${width}.png` })
        expect(ctx.blocked).toEqual([])
        await ctx.context.close()
      })
    }
  }

  it("sets a budget through the form and shows it", async () => {
    const ctx = await offlineContext(browser, app.url)
    const page = await loggedInPage(ctx, app.url)
    await page.goto(`${app.url}/?lang=en`)
    await page.locator("#budget-form").waitFor()
    await page.locator("#budget-form select[name=scope]").selectOption("group")
    await page.locator("#budget-form input[name=subject]").fill("IT")
    await page.locator("#budget-form input[name=amountPln]").fill("250")
    await page.locator("#budget-form button[type=submit]").click()
    await page.locator("#budget-form-status", { hasText: "Saved." }).waitFor()
    await page.locator("#budgets-table", { hasText: "Group: IT" }).waitFor()
    const listed = (await (await admin("/api/v1/admin/budgets")).json()) as any
    expect(listed.budgets.find((b: any) => b.scope === "group" && b.subject === "IT")).toMatchObject({ amountPln: "250.00", name: "IT" })
    await page.locator("#budget-form input[name=amountPln]").fill("12.345")
    await page.locator("#budget-form button[type=submit]").click()
    await page.locator("#budget-form-status.error").waitFor()
    expect(await page.locator("#budget-form-status").innerText()).toContain("at most 2 decimals")
    await ctx.context.close()
  })
})
