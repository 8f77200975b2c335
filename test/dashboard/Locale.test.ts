/**
 * The login page and the panels without data of their own (the reconciliation when it is not set
 * up) in a real headless Chromium: Polish by default, English with `?lang=en`, and no label of
 * the other language on either. The panels with data are checked in Accounting.test.ts and
 * Reconciliation.test.ts, in both languages.
 */
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, offlineContext } from "../support/chromium.js"

let browser: Browser
let app: TestApp

beforeAll(async () => {
  ;[browser, app] = await Promise.all([launchChromium(), startApp()])
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const ENGLISH = ["Admin token", "Log in", "Usage and costs", "API documentation", "not valid", "Nothing was saved", "Enter the"]
const POLISH = ["Token administratora", "Zaloguj", "Zużycie", "Dokumentacja", "nieprawidłowy", "Nic nie zapisano", "Podaj"]
const bodyText = (page: Page) => page.locator("body").innerText()

/** The login page of a fresh browser context, in `lang` ("pl" by default: no `?lang=`), with its title. */
const openLogin = async (lang: "pl" | "en", title: string) => {
  const ctx = await offlineContext(browser, app.url)
  const page = await ctx.context.newPage()
  await page.goto(app.url + (lang === "pl" ? "/" : "/?lang=en"))
  expect(await page.locator("html").getAttribute("lang")).toBe(lang)
  expect(await page.title()).toBe(title)
  return { ctx, page }
}

describe("the login page", () => {
  it("is Polish by default, its error line too, and sets no cookie", async () => {
    const { ctx, page } = await openLogin("pl", "Logowanie — mai-usage (default)")
    await page.getByLabel("Token administratora").fill("not-the-token")
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/login"),
      page.getByRole("button", { name: "Zaloguj się" }).click()
    ])
    expect(response.status()).toBe(401)
    expect(await page.getByRole("alert").innerText()).toBe("Ten token administratora jest nieprawidłowy. Nic nie zapisano; spróbuj ponownie.")
    const text = await bodyText(page)
    expect(text).toContain("Dokumentacja API")
    for (const word of ENGLISH) expect(text).not.toContain(word)
    expect(await ctx.context.cookies()).toEqual([])
    await ctx.context.close()
  })

  it("is English with ?lang=en (its error line and the dashboard after the login too), and switches back", async () => {
    const { ctx, page } = await openLogin("en", "Log in — mai-usage (default)")
    await page.getByLabel("Admin token").fill("")
    await page.locator("#token").evaluate((i) => i.removeAttribute("required"))
    await page.getByRole("button", { name: "Log in" }).click()
    expect(await page.getByRole("alert").innerText()).toBe("Enter the admin token.")
    let text = await bodyText(page)
    for (const word of POLISH) expect(text).not.toContain(word)

    await page.getByLabel("Admin token").fill("not-the-token")
    await page.getByRole("button", { name: "Log in" }).click()
    expect(await page.getByRole("alert").innerText()).toBe("That admin token is not valid. Nothing was saved; try again.")
    text = await bodyText(page)
    expect(text).toContain("API documentation")
    for (const word of POLISH) expect(text).not.toContain(word)

    await page.getByLabel("Admin token").fill(ADMIN_TOKEN)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.locator("#reconciliation-body .alert").waitFor()
    expect(await page.locator("html").getAttribute("lang")).toBe("en")
    expect(await page.getByRole("button", { name: "Log out" }).count()).toBe(1)

    // The switch on the login page leads to the Polish one.
    const other = await openLogin("en", "Log in — mai-usage (default)")
    await other.page.getByRole("link", { name: "Polski" }).click()
    await other.page.getByLabel("Token administratora").waitFor()
    expect(other.ctx.blocked).toEqual([])
    await other.ctx.context.close()
    await ctx.context.close()
  })
})

describe("the reconciliation panel when it is not set up", () => {
  it("says so in Polish by default and in English with ?lang=en", async () => {
    const ctx = await offlineContext(browser, app.url)
    const page = await loggedInPage(ctx, app.url)
    await page.locator("#reconciliation-body .alert").waitFor()
    const pl = await page.locator("#reconciliation").innerText()
    // It speaks to the client's admin: what it means and whom to ask, no variable or repository file.
    expect(pl).toContain("Porównanie z danymi OpenRouter nie jest włączone dla tej organizacji")
    expect(pl).toContain("poproś o to dostawcę usługi")
    for (const word of ["Not set up", "compared", "activity", "Check against", "OPENROUTER_", "docs/"]) expect(pl).not.toContain(word)

    await page.goto(app.url + "/?lang=en")
    await page.locator("#reconciliation-body .alert").waitFor()
    const en = await page.locator("#reconciliation").innerText()
    expect(en).toContain("The check against OpenRouter's records is not switched on for this organisation")
    expect(en).toContain("ask your service provider")
    for (const word of ["Nie skonfigurowano", "porównywany", "Porównanie", "OPENROUTER_", "docs/"]) expect(en).not.toContain(word)
    await ctx.context.close()
  })
})
