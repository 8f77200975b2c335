/**
 * One figure, one rule, in a real headless Chromium against the real app, at 1400 and 390 px, in
 * Polish and English, on a month that has both usage of its own and an adjustment for a closed
 * earlier month:
 *   - every table's total is the sum of the rows it shows (the adjustments are a row of its foot);
 *   - the adjustments card fits, with the reason in the page's language;
 *   - the CSV buttons give the Polish Excel dialect on the Polish page, the plain CSV on the English one;
 *   - the printable statement is in the page's language, with the closer's name, the reason, Warsaw
 *     times, per-user subtotals and the same figures as the API.
 * Screenshots of each go to test-output/.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, offlineContext, screenshotDir } from "../support/chromium.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"

const LUKASZ = "Łukasz Żółć"
const ANNA = "anna.kowalska@example.pl"
const ZOFIA = "Zofia Źródłowska"
const HAIKU = "anthropic/claude-haiku-4.5"
const GPT = "openai/gpt-4o"
const CLOSER = "Agnieszka Żurawska"
const REASON = "FV/11/2025 wystawiona"
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const shots = screenshotDir()
const WIDTHS = [1400, 390] as const
const LANGS = ["pl", "en"] as const
let browser: Browser
let nbp: NbpStandIn
let app: TestApp
let seq = 0

const send = async (at: string, user: string, model: string, cost: string) => {
  const res = await postWebhook(app.url, deliveryOf({ id: `gen-dash-fig-${++seq}`, at, user, model, cost }))
  expect(res.status).toBe(200)
}
const run = async (q: string) => {
  const res = await fetch(`${app.url}/api/v1/admin/batch/run?${q}`, { method: "POST", headers: admin })
  expect(res.status).toBe(200)
}
const api = async (path: string) => {
  const res = await fetch(app.url + path, { headers: admin })
  expect(res.status).toBe(200)
  return (await res.json()) as any
}

/** Exact decimal text → integer units of 10^-9 (test-side, no floats). */
const nano = (text: string) => {
  const negative = text.startsWith("-")
  const [int, frac = ""] = text.replace(/^-/, "").split(".")
  const v = BigInt(int) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"))
  return negative ? -v : v
}
/** A PLN cell as the page writes it ("1 234,56 zł" / "PLN 1,234.56") → grosze. */
const grosze = (lang: "pl" | "en", cell: string) => {
  const digits = lang === "pl"
    ? cell.replace(/\s*zł$/, "").replace(/[\s\u00a0]/g, "").replace(",", ".")
    : cell.replace(/^PLN[\s\u00a0]*/, "").replace(/,/g, "")
  expect(digits, cell).toMatch(/^-?\d+\.\d\d$/)
  return nano(digits) / 10_000_000n
}
/** A USD cell's exact amount, from its title ("1 234,5678 USD" / "$1,234.5678") → nano-USD. */
const usdTitle = (lang: "pl" | "en", title: string) =>
  nano(lang === "pl"
    ? title.replace(/[\s\u00a0]*USD$/, "").replace(/[\s\u00a0]/g, "").replace(",", ".")
    : title.replace(/^(-?)\$/, "$1").replace(/,/g, ""))

const scrollWidth = (page: Page) => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)

beforeAll(async () => {
  ;[browser, nbp] = await Promise.all([launchChromium(), startNbpStandIn()])
  app = await startApp({
    NBP_API_URL: nbp.url,
    RESELLER_NAME: "Odsprzedawca AI Sp. z o.o.",
    RESELLER_NIP: "5260250274",
    RESELLER_ADDRESS: "ul. Długa 1, 00-001 Warszawa",
    CLIENT_NAME: "Klient Przykładowy S.A.",
    CLIENT_NIP: "7740001454",
    CLIENT_ADDRESS: "ul. Krótka 2, 31-000 Kraków"
  })
  // November: three users (code-point order would put "Zofia…" before "anna…"), closed with a name and a reason.
  await send("2025-11-03T09:00:00.000Z", LUKASZ, HAIKU, "0.25")
  await send("2025-11-04T10:00:00.000Z", ANNA, GPT, "1.5")
  await send("2025-11-05T10:00:00.000Z", ZOFIA, GPT, "0.0000015")
  await run("from=2025-11-01&to=2025-11-30")
  const closed = await fetch(`${app.url}/api/v1/admin/months/2025-11/close?reason=${encodeURIComponent(REASON)}`, {
    method: "POST",
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({ by: CLOSER })
  })
  expect(closed.status, await closed.clone().text()).toBe(200)
  // December: usage of its own, and a late event for closed November re-run → an adjustment in December.
  await send("2025-12-02T10:00:00.000Z", ANNA, GPT, "0.75")
  await send("2025-12-03T10:00:00.000Z", LUKASZ, HAIKU, "2.125")
  await run("from=2025-12-02&to=2025-12-03")
  await send("2025-11-03T15:00:00.000Z", LUKASZ, HAIKU, "0.5")
  await run("date=2025-11-03")
  const dec = await api("/api/v1/usage/summary?month=2025-12")
  expect(dec.adjustments).toHaveLength(1)
  expect(dec.users.length).toBeGreaterThan(0)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await nbp?.close()
  if (app !== undefined) Fs.rmSync(app.dataDir, { recursive: true, force: true })
})

describe("a month with adjustments, at 1400 and 390 px, in Polish and English", () => {
  for (const lang of LANGS) {
    for (const width of WIDTHS) {
      it(`${lang}, ${width} px: every table's total is the sum of its rows; the adjustments card fits; CSV buttons`, async () => {
        const ctx = await offlineContext(browser, app.url, { viewport: { width, height: 900 } })
        const page = await loggedInPage(ctx, app.url)
        const errors: Array<string> = []
        page.on("pageerror", (e) => errors.push(e.message))
        await page.goto(`${app.url}/?month=2025-12&lang=${lang}`)
        await page.locator("#adjustments-table").waitFor({ timeout: 5000 }).catch(() => {
          throw new Error(`the page failed: ${errors.join("; ")}`)
        })
        const summary = await api("/api/v1/usage/summary?month=2025-12")

        for (const table of ["users", "models", "days"]) {
          const t = page.locator(`#${table}-table`)
          // Columns: name (or day), requests, tokens, USD, PLN, …
          const plnCol = "td:nth-child(5)"
          const body = await t.locator(`tbody tr ${plnCol}`).allInnerTexts()
          const adjustments = t.locator(`#${table}-adjustments`)
          // The adjustments are a row of the table, labelled so, above the total.
          expect(await adjustments.locator("td").first().innerText()).toBe(
            lang === "pl" ? "Korekty za wcześniejsze miesiące (1)" : "Adjustments for earlier months (1)"
          )
          const adjPln = await adjustments.locator(plnCol).innerText()
          const total = await t.locator(`tfoot tr.foot-total ${plnCol}`).innerText()
          const sum = [...body, adjPln].reduce((s, c) => s + grosze(lang, c), 0n)
          expect(sum, `${table}: rows + adjustments = total`).toBe(grosze(lang, total))
          expect(grosze(lang, total)).toBe(nano(summary.totals.costPln) / 10_000_000n)
          // USD: each shown to the cent, the exact amount on hover; the exact amounts add up too.
          const usdCol = `td:nth-child(4)`
          const titles = await t.locator(`tbody tr ${usdCol}`).evaluateAll((tds) => tds.map((td) => td.getAttribute("title") ?? ""))
          const adjTitle = (await adjustments.locator(usdCol).getAttribute("title")) ?? ""
          const totalTitle = (await t.locator(`tfoot tr.foot-total ${usdCol}`).getAttribute("title")) ?? ""
          expect([...titles, adjTitle].reduce((s, c) => s + usdTitle(lang, c), 0n)).toBe(usdTitle(lang, totalTitle))
          expect(usdTitle(lang, totalTitle)).toBe(nano(summary.totals.costUsd))
        }

        // The adjustments card: the reason in the page's language, inside the card, nothing wider than the screen.
        const card = page.locator("#adjustments")
        const reason = page.locator("#adjustments-table tbody tr td:last-child")
        const reasonText = await reason.innerText()
        if (lang === "pl") {
          expect(reasonText).toMatch(/^2025-11 był już zamknięty; przebieg nr \d+ \(API\) znalazł inne dane za 3 lis 2025$/)
        } else {
          expect(reasonText).toMatch(/^2025-11 was closed; run #\d+ \(API\) found different figures for 3 Nov 2025$/)
        }
        const cardBox = (await card.boundingBox())!
        const reasonBox = (await reason.boundingBox())!
        expect(reasonBox.width).toBeGreaterThan(40)
        if (width === 1400) {
          // At 1400 px the whole table is in view, the reason column too.
          expect(reasonBox.x + reasonBox.width).toBeLessThanOrEqual(cardBox.x + cardBox.width)
          expect(await card.locator(".scroll").evaluate((d) => d.scrollWidth <= d.clientWidth + 1)).toBe(true)
        }
        expect(await scrollWidth(page)).toBeLessThanOrEqual(width)
        // The users table is whole in its card at both widths: a long e-mail breaks, the PLN column stays in view.
        const usersScroll = page.locator("#users-h").locator("xpath=..").locator(".scroll")
        expect(await usersScroll.evaluate((d) => d.scrollWidth <= d.clientWidth + 1)).toBe(true)
        await page.screenshot({ path: `${shots}month-adjustments-${lang}-${width}.png`, fullPage: true })
        await card.screenshot({ path: `${shots}month-adjustments-card-${lang}-${width}.png` })
        await page.locator("#users-h").locator("xpath=..").screenshot({ path: `${shots}month-users-${lang}-${width}.png` })
        await page.locator("#days-h").locator("xpath=..").screenshot({ path: `${shots}month-days-${lang}-${width}.png` })

        // Every CSV button of the page: Polish Excel on the Polish page, plain CSV on the English one.
        const hrefs = await page.locator("a[href*='format=csv']").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""))
        // the month's five lists, the adjustments, the statement (and today's, when today has usage)
        expect(hrefs.length).toBeGreaterThanOrEqual(7)
        for (const href of hrefs) {
          if (lang === "pl") {
            expect(href, href).toContain("dialect=excel-pl")
            expect(href, href).toContain("lang=pl")
          } else {
            expect(href, href).not.toContain("dialect=")
            expect(href, href).not.toContain("lang=pl")
          }
        }
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.locator("#downloads a").first().click()
        ])
        const bytes = Fs.readFileSync((await download.path())!)
        const csv = bytes.toString("utf8")
        if (lang === "pl") {
          // Polish Excel: BOM, `;`, decimal commas, Polish headers.
          expect(csv.split("\r\n")[0]).toBe(
            "\uFEFFdata;użytkownik;model;zapytania;tokeny_wejściowe;tokeny_wyjściowe;tokeny_razem;tokeny_z_pamięci;" +
              "tokeny_rozumowania;koszt_usd;narzut;kurs;tabela_nbp;data_tabeli;kwota_pln"
          )
          expect(csv).toMatch(/;\d+,\d\d\r\n/)
        } else {
          expect(csv.split("\r\n")[0]).toBe(
            "date,user,model,requests,inputTokens,outputTokens,totalTokens,cachedTokens,reasoningTokens,costUsd,markup,rate,rateTable,rateDate,costPln"
          )
        }
        const [statementCsv] = await Promise.all([page.waitForEvent("download"), page.locator("#accounting #statement-csv").click()])
        const statement = Fs.readFileSync((await statementCsv.path())!, "utf8")
        expect(statement.split("\r\n")[0]).toBe(lang === "pl"
          ? "\uFEFFsekcja;data;użytkownik;model;zapytania;tokeny_wejściowe;tokeny_wyjściowe;tokeny_razem;tokeny_z_pamięci;tokeny_rozumowania;koszt_usd;narzut;kurs;tabela_nbp;data_tabeli;kwota_pln;uwagi"
          : "section,date,user,model,requests,inputTokens,outputTokens,totalTokens,cachedTokens,reasoningTokens,costUsd,markup,rate,rateTable,rateDate,costPln,note")
        expect(ctx.blocked).toEqual([])
        await ctx.context.close()
      })
    }
  }
})

describe("the printable statement, at 1400 and 390 px, in Polish and English", () => {
  for (const lang of LANGS) {
    for (const width of WIDTHS) {
      it(`${lang}, ${width} px: the closed month in the page's language, its figures the API's`, async () => {
        const ctx = await offlineContext(browser, app.url, { viewport: { width, height: 900 } })
        const page = await loggedInPage(ctx, app.url)
        await page.goto(`${app.url}/statement?month=2025-11&lang=${lang}`)
        await page.locator("#statement-lines").waitFor()
        const s = await api("/api/v1/statements/2025-11")
        const warsaw = new Intl.DateTimeFormat("sv-SE", {
          timeZone: "Europe/Warsaw",
          year: "numeric",
          month: "2-digit",
          day: "2-digit",
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit"
        }).format(new Date(s.closing.closedAt))
        const pl = lang === "pl"
        expect(await page.locator("h1").innerText()).toBe(pl ? "Zestawienie zużycia za 2025-11" : "Usage statement for 2025-11")
        // its month is drawn whole, on one line, even where the heading wraps (Polish, 390 px)
        expect(await page.locator("h1 .month").evaluate((m: any) => m.getClientRects().length as number)).toBe(1)
        expect(await page.locator("#statement-closed-by").innerText()).toBe(`${CLOSER} (API)`)
        expect(await page.locator("#statement-close-reason").innerText()).toBe(REASON)
        expect(await page.locator("#statement-closed-at").innerText()).toBe(`${warsaw} (${pl ? "czasu warszawskiego" : "Warsaw time"})`)
        expect(await page.locator("#statement-seller").innerText()).toBe("Odsprzedawca AI Sp. z o.o., NIP 5260250274, ul. Długa 1, 00-001 Warszawa")
        expect(await page.locator("#statement-buyer").innerText()).toBe("Klient Przykładowy S.A., NIP 7740001454, ul. Krótka 2, 31-000 Kraków")
        // Users in Polish alphabetical order, each with a subtotal.
        expect(await page.locator("#statement-lines tr.group").allInnerTexts()).toEqual([ANNA, LUKASZ, ZOFIA])
        expect(await page.locator("#statement-lines tr.subtotal").count()).toBe(3)
        // A sum's label ("Razem użytkownik") breaks between words, never inside one, even at 390 px:
        // every word of it is drawn on one line.
        const brokenWords = await page.locator("#statement-lines tr.subtotal td:first-child, #statement-lines tr.total td:first-child")
          .evaluateAll((cells: Array<any>) =>
            cells.flatMap((cell) => {
              const text = cell.firstChild
              const words: Array<string> = []
              for (const m of (text.data as string).matchAll(/\S+/g)) {
                const range = (globalThis as any).document.createRange()
                range.setStart(text, m.index!)
                range.setEnd(text, m.index! + m[0].length)
                if (range.getClientRects().length > 1) words.push(m[0])
              }
              return words
            })
          )
        expect(brokenWords).toEqual([])
        const totalPln = (await page.locator("#statement-total-pln").innerText()).replace(/\u00a0/g, " ")
        const [int, frac] = s.totals.costPln.split(".")
        expect(totalPln).toBe(pl ? `${int},${frac} zł` : `${int}.${frac} PLN`)
        expect(await page.locator("#statement-rule-h").innerText()).toBe(pl ? "Jak wyliczono kwoty" : "How the amounts are worked out")
        expect(await page.locator("main").innerText()).not.toContain("round_half_up")
        // Its download buttons keep the language (and Polish Excel on the Polish page).
        expect(await page.locator("#statement-pdf").getAttribute("href")).toBe(`/api/v1/statements/2025-11?format=pdf&lang=${lang}`)
        expect(await page.locator("#statement-csv").getAttribute("href")).toBe(
          pl ? "/api/v1/statements/2025-11?format=csv&lang=pl&dialect=excel-pl" : "/api/v1/statements/2025-11?format=csv&lang=en"
        )
        // The four controls under it (three links and the print button) stand the same height.
        const heights = await page.locator("p.downloads > *").evaluateAll((els: Array<any>) =>
          els.map((el) => Math.round(el.getBoundingClientRect().height as number)))
        expect(heights.length).toBe(4)
        expect(new Set(heights).size).toBe(1)
        expect(await scrollWidth(page)).toBeLessThanOrEqual(width)
        await page.screenshot({ path: `${shots}statement-${lang}-${width}.png`, fullPage: true })
        expect(ctx.blocked).toEqual([])
        await ctx.context.close()
      })
    }
  }
})

describe("the statement's PDF pages", () => {
  it("renders every page of both months in both languages to PNG (pdftoppm), for a person to look at", async () => {
    for (const month of ["2025-11", "2025-12"]) {
      for (const lang of LANGS) {
        const res = await fetch(`${app.url}/api/v1/statements/${month}?format=pdf&lang=${lang}`, { headers: admin })
        expect(res.status).toBe(200)
        const file = `${shots}statement-${month}-${lang}.pdf`
        Fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()))
        execFileSync("pdftoppm", ["-png", "-r", "80", file, `${shots}statement-${month}-${lang}-page`])
        const pages = Fs.readdirSync(shots).filter((f) => f.startsWith(`statement-${month}-${lang}-page`) && f.endsWith(".png"))
        expect(pages.length).toBeGreaterThanOrEqual(1)
        // Its text: the document's title and the closer (the closed month), the page numbers.
        const text = execFileSync("pdftotext", ["-raw", "-enc", "UTF-8", file, "-"], { encoding: "utf8" })
        expect(text).toContain(lang === "pl" ? `Zestawienie zużycia za ${month}` : `Usage statement for ${month}`)
        expect(text).toContain(lang === "pl" ? `strona 1 z ${pages.length}` : `page 1 of ${pages.length}`)
        if (month === "2025-11") expect(text).toContain(CLOSER)
      }
    }
  })
})
