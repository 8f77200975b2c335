/**
 * Accounting periods end to end, over the real app (real HTTP, real SQLite files, NBP stand-in
 * serving NBP's real tables): close a month, a late event for a closed day, adjustments, reopen,
 * and the statement's JSON, CSV and PDF (text extracted by poppler's `pdftotext`). Expected money is
 * computed here independently with integer arithmetic.
 */
import Database from "better-sqlite3"
import { execFileSync } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"
import { previousTable } from "../support/summarySeed.js"

const LUKASZ = "Łukasz Żółć"
const ANNA = "anna.kowalska@example.pl"
const HAIKU = "anthropic/claude-haiku-4.5"
const GPT = "openai/gpt-4o"
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const CLOSER = "Agnieszka Żurawska"
const REASON = "FV/11/2025 wystawiona"

/** An instant on Warsaw's wall clock, `YYYY-MM-DD HH:MM:SS` (computed here with Intl, not the app's code). */
const warsaw = (iso: string) =>
  new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Europe/Warsaw",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit"
  }).format(new Date(iso))

/** A CSV figure as the statement's PDF writes it: digits grouped by three, the language's decimal mark. */
const figure = (lang: "pl" | "en", v: string) => {
  const [int, frac] = v.split(".")
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, lang === "pl" ? " " : ",")
  return frac === undefined ? grouped : `${grouped}${lang === "pl" ? "," : "."}${frac}`
}

let nbp: NbpStandIn
let app: TestApp
let seq = 0

const post = (path: string) => fetch(app.url + path, { method: "POST", headers: admin })
const get = (path: string) => fetch(app.url + path, { headers: admin })
const json = async (path: string) => {
  const res = await get(path)
  expect(res.status).toBe(200)
  return (await res.json()) as any
}
const send = async (at: string, user: string, model: string, cost: string) => {
  const res = await postWebhook(app.url, deliveryOf({ id: `gen-acc-${process.pid}-${++seq}`, at, user, model, cost }))
  expect(res.status).toBe(200)
}
const run = async (query: string) => {
  const res = await post(`/api/v1/admin/batch/run?${query}`)
  const body = (await res.json()) as any
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.results as Array<any>
}
const summaryDb = () => new Database(Path.join(app.dataDir, "usage_summary.db"), { readonly: true })
const query = (sql: string, ...params: Array<unknown>) => {
  const db = summaryDb()
  try {
    return db.prepare(sql).all(...params) as Array<any>
  } finally {
    db.close()
  }
}
const pdfText = (pdf: Buffer) => {
  const dir = tempDir("mai-usage-pdf-")
  try {
    const file = Path.join(dir, "statement.pdf")
    Fs.writeFileSync(file, pdf)
    // Content-stream order; every run of white space (no-break spaces, wrapped cells) as one space,
    // and a name wrapped after its hyphen (`claude-` / `haiku-4.5`) joined again.
    return execFileSync("pdftotext", ["-raw", "-enc", "UTF-8", file, "-"], { encoding: "utf8" })
      .replace(/[\s\u00a0]+/g, " ")
      .replace(/(\w-) (?=\w)/g, "$1")
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

beforeAll(async () => {
  nbp = await startNbpStandIn()
  app = await startApp({ NBP_API_URL: nbp.url })
  await send("2025-11-03T09:00:00.000Z", LUKASZ, HAIKU, "0.25")
  await send("2025-11-03T10:00:00.000Z", LUKASZ, HAIKU, "0.125")
  await send("2025-11-04T10:00:00.000Z", ANNA, GPT, "1.5")
  await send("2025-12-02T10:00:00.000Z", ANNA, GPT, "0.75")
})

afterAll(async () => {
  await app?.close()
  await nbp?.close()
  if (app !== undefined) Fs.rmSync(app.dataDir, { recursive: true, force: true })
})

describe("closing a month", () => {
  it("is refused, naming the day, while a day of the month has no successful run", async () => {
    await run("from=2025-11-01&to=2025-11-29")
    const res = await post("/api/v1/admin/months/2025-11/close")
    expect(res.status).toBe(409)
    const body = (await res.json()) as any
    expect(body.error).toContain("no successful batch run for 2025-11-30")
    expect(body.error).not.toContain("2025-11-29")
    expect(query("SELECT * FROM closed_months")).toEqual([])
    expect((await post("/api/v1/admin/months/2025-13/close")).status).toBe(400)
    // A body that is not {by?, reason?} is refused before anything is looked at.
    for (const body of ["{\"by\": 12}", "not json", JSON.stringify({ by: "x".repeat(201) })]) {
      const bad = await fetch(`${app.url}/api/v1/admin/months/2025-11/close`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        body
      })
      expect(bad.status, body).toBe(400)
    }
    expect(query("SELECT * FROM closed_months")).toEqual([])
    expect((await fetch(app.url + "/api/v1/admin/months/2025-11/close", { method: "POST" })).status).toBe(401)
  })

  it("records when, by whom, the totals and the SHA-256 of the statement CSV", async () => {
    await run("date=2025-11-30")
    // The closer's name in the JSON body; the reason as the URL parameter.
    const res = await fetch(`${app.url}/api/v1/admin/months/2025-11/close?reason=${encodeURIComponent(REASON)}`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ by: CLOSER })
    })
    const closing = (await res.json()) as any
    expect(res.status, JSON.stringify(closing)).toBe(200)
    const t3 = previousTable("2025-11-03")
    const t4 = previousTable("2025-11-04")
    const pln3 = expectedPln(nanoUsd("0.375"), "1.3", t3.mid)
    const pln4 = expectedPln(nanoUsd("1.5"), "1.3", t4.mid)
    const total = ((Number(pln3.replace(".", "")) + Number(pln4.replace(".", ""))) / 100).toFixed(2)
    expect(closing).toMatchObject({
      month: "2025-11",
      closedBy: "api",
      closerName: CLOSER,
      reason: REASON,
      costUsd: "1.875",
      costPln: total,
      requests: 3
    })
    // The recorded hash is of the canonical CSV: English, default dialect; it names the closer.
    const csv = await (await get("/api/v1/statements/2025-11?format=csv&lang=en")).text()
    expect(Crypto.createHash("sha256").update(csv, "utf8").digest("hex")).toBe(closing.statementSha256)
    expect(csv).toContain(`status,,,,,,,,,,,,,,,,closed at ${closing.closedAt} by api (${CLOSER})\r\n`)
    // The default CSV is Polish: Polish headers and sections, the close in Warsaw time; not the hashed one.
    const polish = await (await get("/api/v1/statements/2025-11?format=csv")).text()
    expect(polish.startsWith("sekcja,data,użytkownik,model,zapytania,")).toBe(true)
    expect(polish).toContain(`stan,,,,,,,,,,,,,,,,zamknięty ${warsaw(closing.closedAt)} (czasu warszawskiego) przez: ${CLOSER} (API)\r\n`)
    expect(Crypto.createHash("sha256").update(polish, "utf8").digest("hex")).not.toBe(closing.statementSha256)
    // The Polish Excel dialect: the same figures, `;`, decimal commas, BOM, headers in the language asked.
    const excelOf = async (query: string) =>
      new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(await (await get(`/api/v1/statements/2025-11?${query}`)).arrayBuffer()))
    const excel = await excelOf("dialect=excel-pl")
    expect(excel.startsWith("\uFEFFsekcja;data;użytkownik;model;zapytania;")).toBe(true)
    expect(excel).toContain(`;${total.replace(".", ",")};pozycje i korekty\r\n`)
    expect(excel).toContain(`pozycja;;${LUKASZ};${HAIKU};2;`)
    const excelEn = await excelOf("dialect=excel-pl&lang=en")
    expect(excelEn.startsWith("\uFEFFsection;date;user;")).toBe(true)
    expect(excelEn).toContain(`;${total.replace(".", ",")};lines plus adjustments\r\n`)
    expect(excelEn).toContain(`line;;${LUKASZ};${HAIKU};2;`)
    const again = await post("/api/v1/admin/months/2025-11/close")
    expect(again.status).toBe(409)
  })
})

describe("a late event for a day of a closed month", () => {
  let before: { rows: Array<unknown>; summary: string }

  it("leaves the closed month byte-for-byte equal and books exactly one adjustment into the next open month", async () => {
    const nov = await json("/api/v1/usage/summary?month=2025-11")
    before = {
      rows: query("SELECT * FROM daily_usage WHERE usage_date LIKE '2025-11-%' ORDER BY usage_date, user, model"),
      summary: JSON.stringify({ totals: nov.totals, days: nov.days, users: nov.users, models: nov.models })
    }
    await send("2025-11-03T15:00:00.000Z", LUKASZ, HAIKU, "0.5")
    const [result] = await run("date=2025-11-03")
    expect(result).toMatchObject({ status: "succeeded", corrections: 1 })

    expect(query("SELECT * FROM daily_usage WHERE usage_date LIKE '2025-11-%' ORDER BY usage_date, user, model"))
      .toEqual(before.rows)
    const novAfter = await json("/api/v1/usage/summary?month=2025-11")
    expect(JSON.stringify({ totals: novAfter.totals, days: novAfter.days, users: novAfter.users, models: novAfter.models }))
      .toBe(before.summary)

    const t3 = previousTable("2025-11-03")
    const dec = await json("/api/v1/usage/summary?month=2025-12")
    expect(dec.adjustments).toHaveLength(1)
    const pln = (Number(expectedPln(nanoUsd("0.875"), "1.3", t3.mid).replace(".", "")) -
      Number(expectedPln(nanoUsd("0.375"), "1.3", t3.mid).replace(".", ""))) / 100
    expect(dec.adjustments[0]).toMatchObject({
      originalDate: "2025-11-03",
      user: LUKASZ,
      model: HAIKU,
      requests: 1,
      // one delivery's token counts (test/support/otlp.ts defaults)
      inputTokens: 4149,
      outputTokens: 154,
      totalTokens: 4303,
      costUsd: "0.50",
      markup: "1.3",
      rate: t3.mid,
      rateTable: t3.no,
      rateDate: t3.effectiveDate,
      costPln: pln.toFixed(2)
    })
    expect(dec.adjustments[0].reason).toContain("2025-11 was closed")
    const csv = await (await get("/api/v1/usage/summary?month=2025-12&format=csv&list=adjustments")).text()
    const csvLines = csv.trimEnd().split("\r\n")
    expect(csvLines).toHaveLength(2)
    expect(csvLines[0]).toBe("originalDate,user,model,requests,inputTokens,outputTokens,totalTokens,cachedTokens," +
      "reasoningTokens,costUsd,markup,rate,rateTable,rateDate,costPln,reason,createdAt")
    expect(csvLines[1]).toContain(`2025-11-03,${LUKASZ},${HAIKU},1,4149,154,4303,`)
    expect(csvLines[1]).toContain(`,0.50,1.3,${t3.mid},${t3.no},${t3.effectiveDate},${pln.toFixed(2)},`)
    // The month's totals include its adjustments for earlier months.
    await run("date=2025-12-02")
    const dec2 = await json("/api/v1/usage/summary?month=2025-12")
    const own = expectedPln(nanoUsd("0.75"), "1.3", previousTable("2025-12-02").mid)
    expect(dec2.usageTotals.costPln).toBe(own)
    expect(dec2.totals.costPln).toBe(((Number(own.replace(".", "")) + Math.round(pln * 100)) / 100).toFixed(2))
    expect(dec2.totals.requests).toBe(2)
    // The closed day shows as corrected.
    const day = novAfter.dayHistory.find((d: any) => d.date === "2025-11-03")
    expect(day).toMatchObject({ corrected: true, lastRunStatus: "succeeded" })
  })

  it("re-running the day again, as the schedule or a CLI would, adds nothing more", async () => {
    const [result] = await run("date=2025-11-03")
    expect(result).toMatchObject({ status: "succeeded", corrections: 0 })
    await run("from=2025-11-01&to=2025-11-05")
    expect(query("SELECT count(*) AS n FROM adjustments")).toEqual([{ n: 1 }])
    expect(query("SELECT * FROM daily_usage WHERE usage_date LIKE '2025-11-%' ORDER BY usage_date, user, model"))
      .toEqual(before.rows)
  })
})

describe("the statement", () => {
  const HEADINGS = {
    pl: ["Zużycie według użytkowników i modeli", "Korekty za wcześniejsze, zamknięte miesiące", "Kursy NBP (tabela A, kurs średni USD)",
      "Narzut", "Razem (pozycje i korekty)", "Jak wyliczono kwoty", "Sprzedawca:", "Nabywca:", "Razem użytkownik"],
    en: ["Usage per user and model", "Adjustments for earlier, closed months", "NBP tables used (table A, USD mid rate)",
      "Markup", "Totals (lines plus adjustments)", "How the amounts are worked out", "Seller:", "Buyer:", "User total"]
  } as const
  const SECTIONS = {
    pl: { line: "pozycja", adjustment: "korekta", total: "razem", client: "klient", lines: "razem pozycje", adjustments: "razem korekty" },
    en: { line: "line", adjustment: "adjustment", total: "total", client: "client", lines: "lines total", adjustments: "adjustments total" }
  } as const

  for (const lang of ["pl", "en"] as const) {
    it(`agrees in JSON, CSV and PDF (${lang}): every CSV figure is in the PDF's text, with the headings, Warsaw times, the closer and the reason`, async () => {
      const money = (v: string) => `${figure(lang, v)} ${lang === "pl" ? "zł" : "PLN"}`
      const usd = (v: string) => `${figure(lang, v)} USD`
      for (const month of ["2025-11", "2025-12"]) {
        const statement = await json(`/api/v1/statements/${month}`)
        const csv = await (await get(`/api/v1/statements/${month}?format=csv&lang=${lang}`)).text()
        const pdfRes = await get(`/api/v1/statements/${month}?format=pdf&lang=${lang}`)
        expect(pdfRes.status).toBe(200)
        expect(pdfRes.headers.get("content-type")).toBe("application/pdf")
        const text = pdfText(Buffer.from(await pdfRes.arrayBuffer()))

        // The CSV (no field of this scenario holds a comma or a quote).
        const lines = csv.trimEnd().split("\r\n").map((l) => l.split(","))
        const header = lines[0]
        const en = ["section", "date", "user", "model", "requests", "inputTokens", "outputTokens", "totalTokens", "cachedTokens",
          "reasoningTokens", "costUsd", "markup", "rate", "rateTable", "rateDate", "costPln", "note"]
        const pl = ["sekcja", "data", "użytkownik", "model", "zapytania", "tokeny_wejściowe", "tokeny_wyjściowe", "tokeny_razem",
          "tokeny_z_pamięci", "tokeny_rozumowania", "koszt_usd", "narzut", "kurs", "tabela_nbp", "data_tabeli", "kwota_pln", "uwagi"]
        expect(header).toEqual(lang === "pl" ? pl : en)
        const rec = (r: Array<string>) => Object.fromEntries(en.map((k, i) => [k, r[i]]))
        const records = lines.slice(1).map(rec)
        const S = SECTIONS[lang]
        const ofSection = (s: string) => records.filter((r) => r.section === s)
        expect(ofSection(S.line).map((r) => r.costPln)).toEqual(statement.lines.map((l: any) => l.costPln))
        expect(ofSection(S.adjustment).map((r) => r.costPln)).toEqual(statement.adjustments.map((a: any) => a.costPln))
        expect(ofSection(S.total)[0].costPln).toBe(statement.totals.costPln)
        expect(ofSection(S.total)[0].costUsd).toBe(statement.totals.costUsd)
        expect(ofSection(S.client)[0].note).toBe("default")

        // Every figure of the CSV, in the PDF: each line and adjustment as one row of cells in order
        // (tokens: input, output, cached, reasoning, total), each sum row, each NBP table and markup.
        const tokens = (r: Record<string, string>) =>
          [r.inputTokens, r.outputTokens, r.cachedTokens, r.reasoningTokens, r.totalTokens].map((v) => figure(lang, v)).join(" ")
        for (const r of ofSection(S.line)) {
          expect(text).toContain(`${r.model} ${figure(lang, r.requests)} ${tokens(r)} ${usd(r.costUsd)} ${figure(lang, r.markup)} ${money(r.costPln)}`)
        }
        for (const r of ofSection(S.adjustment)) {
          expect(text).toContain(`${r.date} ${r.user} / ${r.model} ${figure(lang, r.requests)} ${tokens(r)} ${usd(r.costUsd)} ${money(r.costPln)}`)
          expect(text).toContain(`${figure(lang, r.rate)} (${lang === "pl" ? "tabela" : "table"} ${r.rateTable} ${lang === "pl" ? "z" : "of"} ${r.rateDate})`)
          expect(text).toContain(`${lang === "pl" ? "narzut" : "markup"} ${figure(lang, r.markup)};`)
        }
        for (const [section, label] of [[S.lines, lang === "pl" ? "Razem pozycje" : "Lines total"],
          [S.adjustments, lang === "pl" ? "Razem korekty" : "Adjustments total"],
          [S.total, lang === "pl" ? "Razem do zapłaty (netto)" : "Total due (net)"]]) {
          const r = ofSection(section)[0]
          // In the totals table, a 0.00 sum included.
          expect(text).toContain(`${label} ${figure(lang, r.requests)} ${tokens(r)} ${usd(r.costUsd)} ${money(r.costPln)}`)
        }
        for (const r of records.filter((x) => x.section === (lang === "pl" ? "tabela nbp" : "nbp table"))) {
          expect(text).toContain(`${r.date} ${r.rateTable} ${r.rateDate} ${figure(lang, r.rate)}`)
        }
        for (const r of records.filter((x) => x.section === (lang === "pl" ? "narzut" : "markup"))) {
          expect(text).toContain(`${figure(lang, r.markup)} `)
        }

        for (const h of HEADINGS[lang]) expect(text).toContain(h)
        expect(text).toContain(lang === "pl" ? `Zestawienie zużycia za ${month}` : `Usage statement for ${month}`)
        expect(text).not.toContain("round_half_up")
        // No UTC instant anywhere: times on Warsaw's wall clock, the zone named.
        expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/)
        const zone = lang === "pl" ? "(czasu warszawskiego)" : "(Warsaw time)"
        expect(text).toContain(`${lang === "pl" ? "Wygenerowano" : "Generated at"}: ${warsaw(statement.generatedAt).slice(0, 10)}`)
        // Buyer from configuration: CLIENT_NAME unset, so the org id.
        expect(text).toContain(`${lang === "pl" ? "Nabywca" : "Buyer"}: default`)
        if (month === "2025-11") {
          expect(statement.status).toBe("closed")
          expect(text).toContain(LUKASZ)
          expect(text).toContain(`${lang === "pl" ? "Zamknięto" : "Closed at"}: ${warsaw(statement.closing.closedAt)} ${zone}`)
          expect(text).toContain(`${lang === "pl" ? "Zamknięty przez" : "Closed by"}: ${CLOSER} (API)`)
          expect(text).toContain(`${lang === "pl" ? "Powód podany przy zamknięciu" : "Reason given at close"}: ${REASON}`)
          expect(text).toContain(statement.closing.statementSha256)
          expect(text).toContain(lang === "pl" ? "Brak." : "None.")
        } else {
          expect(statement.status).toBe("open")
          expect(statement.adjustments).toHaveLength(1)
          expect(text).toContain(LUKASZ) // the adjustment's user
          // The adjustment's reason, in the document's language.
          expect(text).toContain(lang === "pl" ? "2025-11 był już zamknięty; przebieg nr" : "2025-11 was closed; run #")
        }
      }
    })
  }
})

describe("reopening", () => {
  it("is refused while a later month is closed, and audited when allowed", async () => {
    await run("from=2025-12-01&to=2025-12-31")
    const closeDec = await post("/api/v1/admin/months/2025-12/close")
    expect(closeDec.status).toBe(200)
    const refused = await post("/api/v1/admin/months/2025-11/reopen?reason=typo")
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as any).error).toContain("2025-12")
    expect((await post("/api/v1/admin/months/2025-12/reopen")).status).toBe(400) // reason required

    const reopened = await post("/api/v1/admin/months/2025-12/reopen?reason=late%20credit%20note")
    expect(reopened.status).toBe(200)
    const months = await json("/api/v1/admin/months")
    expect(months.closed.map((c: any) => c.month)).toEqual(["2025-11"])
    expect(months.audit.map((a: any) => [a.month, a.action, a.by, a.reason])).toEqual([
      ["2025-11", "close", "api", REASON],
      ["2025-12", "close", "api", null],
      ["2025-12", "reopen", "api", "late credit note"]
    ])
    // Reopening the earlier month folds its adjustments back into its own rows, counted once.
    const reopenNov = await post("/api/v1/admin/months/2025-11/reopen?reason=re-invoice")
    expect(reopenNov.status).toBe(200)
    expect(((await reopenNov.json()) as any).foldedAdjustments).toBe(1)
    const t3 = previousTable("2025-11-03")
    const [row] = query("SELECT requests, cost_usd, cost_pln FROM daily_usage WHERE usage_date = '2025-11-03'")
    expect(row).toEqual({ requests: 3, cost_usd: "0.875", cost_pln: expectedPln(nanoUsd("0.875"), "1.3", t3.mid) })
    expect(query("SELECT count(*) AS n FROM adjustments")).toEqual([{ n: 0 }])
    const [rerun] = await run("date=2025-11-03")
    expect(rerun.corrections).toBe(0)
  })
})
