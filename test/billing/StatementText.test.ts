/**
 * The statement as a person reads it (`StatementText.ts`) and its CSV in both languages, built from a
 * statement of known lines: money and counts in each language's style, Warsaw times across the DST
 * change, users in Polish alphabetical order with subtotals, the rule in words, and the canonical
 * (English) CSV unchanged in wording for a month closed without a name.
 */
import { describe, expect, it } from "vitest"
import { DailyRow } from "../../src/api/UsageModel.js"
import { buildStatement, statementCsv } from "../../src/billing/Statement.js"
import type { Adjustment, ClosingRecord } from "../../src/billing/SummaryMonths.js"
import {
  formatInstant,
  formatNumber,
  formatPln,
  reasonText,
  reconciliationText,
  type StatementContext,
  statementDocument
} from "../../src/billing/StatementText.js"

const row = (date: string, user: string, model: string, costUsd: string, costNusd: bigint, costPln: string, markup = "1.3") => ({
  costNusd,
  row: new DailyRow({
    date,
    user,
    model,
    requests: 2,
    inputTokens: 1200,
    outputTokens: 345,
    totalTokens: 1545,
    cachedTokens: 100,
    reasoningTokens: 7,
    costUsd,
    markup,
    rate: "3.6210",
    rateTable: "191/A/NBP/2025",
    rateDate: "2025-10-02",
    costPln
  })
})

const ROWS = [
  row("2025-11-03", "Zażółć Gęślą", "openai/gpt-4o", "12.3456789", 12_345_678_900n, "58.12"),
  row("2025-11-03", "anna.kowalska@example.pl", "openai/gpt-4o", "1234.56", 1_234_560_000_000n, "5811.53"),
  row("2025-11-04", "anna.kowalska@example.pl", "anthropic/claude-haiku-4.5", "0", 0n, "0.00"),
  row("2025-11-20", "Łukasz Żółć", "google/gemini-2.5-pro", "0.0000015", 1500n, "0.00", "1.45")
]
const ADJUSTMENT: Adjustment = {
  id: 1,
  month: "2025-11",
  originalDate: "2025-10-26",
  user: "Łukasz Żółć",
  model: "openai/gpt-4o",
  requests: 1,
  inputTokens: 10,
  outputTokens: 5,
  totalTokens: 15,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd: 2_000_000_000n,
  costUsd: "2.00",
  markup: "1.3",
  rate: "3.6210",
  rateTable: "207/A/NBP/2025",
  rateDate: "2025-10-24",
  costPln: "9.41",
  reason: "2025-10 was closed; run #12 (schedule) found different figures for 2025-10-26",
  batchRunId: 12,
  createdAt: "2025-11-02T01:00:00.000Z"
}
const closing = (closerName?: string): ClosingRecord => ({
  month: "2025-11",
  closedAt: "2025-12-07T00:15:24.907Z",
  closedBy: "dashboard",
  reason: "FV/11/2025 wystawiona",
  requests: 9,
  totalTokens: 6195,
  costUsd: "1248.9056804",
  costPln: "5879.06",
  statementSha256: "ab".repeat(32),
  reconciliation: "reconciled with OpenRouter",
  ...(closerName === undefined ? {} : { closerName })
})
const statement = (closerName?: string) =>
  buildStatement({
    clientOrgId: "acme-pl",
    month: "2025-11",
    rows: ROWS,
    adjustments: [ADJUSTMENT],
    closing: closing(closerName),
    generatedAt: "2025-07-01T10:00:00.000Z"
  })
const CTX: StatementContext = {
  seller: { name: "Odsprzedawca AI Sp. z o.o.", nip: "5260250274", address: "ul. Długa 1, 00-001 Warszawa" },
  buyer: { name: undefined, nip: undefined, address: undefined },
  timeZone: "Europe/Warsaw",
  exchangeRateRule: "previous-business-day"
}

describe("formats", () => {
  it("writes numbers and money in each language's style, every decimal kept", () => {
    expect(formatNumber("pl", "1234567.8900")).toBe("1\u00a0234\u00a0567,8900")
    expect(formatNumber("en", "1234567.8900")).toBe("1,234,567.8900")
    expect(formatNumber("pl", "1234")).toBe("1\u00a0234")
    expect(formatNumber("pl", "-0.50")).toBe("-0,50")
    expect(formatPln("pl", "1234.56")).toBe("1\u00a0234,56\u00a0zł")
    expect(formatPln("en", "1234.56")).toBe("1,234.56\u00a0PLN")
  })

  it("writes instants on Warsaw's wall clock, in winter and in summer, never as UTC", () => {
    expect(formatInstant("pl", "Europe/Warsaw", "2026-12-07T00:15:24.907Z")).toBe("2026-12-07 01:15:24 (czasu warszawskiego)")
    expect(formatInstant("en", "Europe/Warsaw", "2025-07-01T22:30:00.000Z")).toBe("2025-07-02 00:30:00 (Warsaw time)")
    expect(formatInstant("en", "America/New_York", "2025-07-01T22:30:00.000Z")).toBe("2025-07-01 18:30:00 (America/New_York)")
  })

  it("says an adjustment's reason and the reconciliation at close in Polish", () => {
    expect(reasonText("pl", ADJUSTMENT.reason)).toBe("2025-10 był już zamknięty; przebieg nr 12 (harmonogram) znalazł inne dane za 2025-10-26")
    expect(reasonText("en", ADJUSTMENT.reason)).toBe(ADJUSTMENT.reason)
    expect(reconciliationText("pl", "accepted unreconciled: OpenRouter counted requests the ledger never received on 2025-11-03 to 2025-11-05"))
      .toBe("zamknięto mimo braku uzgodnienia: OpenRouter policzył zapytania, których rejestr nie otrzymał: 2025-11-03 do 2025-11-05")
    expect(reconciliationText("pl", "reconciled with OpenRouter")).toBe("uzgodniono z OpenRouter")
  })
})

describe("the statement's document", () => {
  it("groups the lines per user in Polish alphabetical order, each with a subtotal of its lines", () => {
    const d = statementDocument(statement(), "pl", CTX)
    const lines = d.sections.find((s) => s.id === "lines")!.table!
    const groups = lines.rows.filter((r) => r.kind === "group").map((r) => r.cells[0])
    // Code-point order would put "Zażółć" first and "Łukasz" last.
    expect(groups).toEqual(["anna.kowalska@example.pl", "Łukasz Żółć", "Zażółć Gęślą"])
    const annaStart = lines.rows.findIndex((r) => r.cells[0] === "anna.kowalska@example.pl")
    expect(lines.rows.slice(annaStart + 1, annaStart + 4).map((r) => [r.kind, r.cells[0], r.cells.at(-1)])).toEqual([
      ["line", "anthropic/claude-haiku-4.5", "0,00\u00a0zł"],
      ["line", "openai/gpt-4o", "5\u00a0811,53\u00a0zł"],
      ["subtotal", "Razem użytkownik", "5\u00a0811,53\u00a0zł"]
    ])
    // The subtotal's USD is the exact sum of its lines (0 + 1234.56).
    expect(lines.rows[annaStart + 3].cells[7]).toBe("1\u00a0234,56\u00a0USD")
    expect(lines.rows.at(-1)!.cells).toEqual(["Razem pozycje", "8", "4\u00a0800", "1\u00a0380", "400", "28", "6\u00a0180",
      "1\u00a0246,9056804\u00a0USD", "", "5\u00a0869,65\u00a0zł"])
    expect(d.totalPln).toBe("5\u00a0879,06\u00a0zł")
  })

  it("names the seller and buyer from configuration (the org id for an unset name), the closer, the reason, Warsaw times", () => {
    const facts = Object.fromEntries(statementDocument(statement("Agnieszka Żurawska"), "pl", CTX).facts.map((f) => [f.id, f.value]))
    expect(facts.seller).toBe("Odsprzedawca AI Sp. z o.o., NIP 5260250274, ul. Długa 1, 00-001 Warszawa")
    expect(facts.buyer).toBe("acme-pl")
    expect(facts["closed-by"]).toBe("Agnieszka Żurawska (panel)")
    expect(facts["close-reason"]).toBe("FV/11/2025 wystawiona")
    expect(facts["closed-at"]).toBe("2025-12-07 01:15:24 (czasu warszawskiego)")
    expect(facts["generated-at"]).toBe("2025-07-01 12:00:00 (czasu warszawskiego)")
    expect(facts.reconciliation).toBe("uzgodniono z OpenRouter")
    const en = Object.fromEntries(statementDocument(statement(), "en", CTX).facts.map((f) => [f.id, f.value]))
    expect(en["closed-by"]).toBe("dashboard")
    expect(en.seller).toBe("Odsprzedawca AI Sp. z o.o., NIP 5260250274, ul. Długa 1, 00-001 Warszawa")
  })

  it("states the rule in words, in both languages, following the configured rate rule", () => {
    const rule = (lang: "pl" | "en", exchangeRateRule: StatementContext["exchangeRateRule"]) =>
      statementDocument(statement(), lang, { ...CTX, exchangeRateRule }).sections.find((s) => s.id === "rule")!.paragraphs!.join(" ")
    expect(rule("pl", "previous-business-day")).toContain("z ostatniego dnia roboczego przed dniem użycia")
    expect(rule("pl", "same-day")).toContain("z dnia użycia")
    expect(rule("en", "previous-business-day")).toContain("of the last business day before the usage day")
    for (const lang of ["pl", "en"] as const) expect(rule(lang, "same-day")).not.toMatch(/round_half_up|×/)
  })
})

describe("the statement CSV in both languages", () => {
  it("keeps the canonical English wording for a month closed without a name, and adds the name when one was given", () => {
    const en = statementCsv(statement())
    expect(en.split("\r\n")[0]).toBe(
      "section,date,user,model,requests,inputTokens,outputTokens,totalTokens,cachedTokens,reasoningTokens,costUsd,markup,rate,rateTable,rateDate,costPln,note"
    )
    expect(en).toContain("\r\nstatus,,,,,,,,,,,,,,,,closed at 2025-12-07T00:15:24.907Z by dashboard\r\n")
    expect(statementCsv(statement("Agnieszka Żurawska"))).toContain(
      "\r\nstatus,,,,,,,,,,,,,,,,closed at 2025-12-07T00:15:24.907Z by dashboard (Agnieszka Żurawska)\r\n"
    )
  })

  it("in Polish: Polish headers, sections and notes, the close in Warsaw time, the same figures in the same order", () => {
    const s = statement("Agnieszka Żurawska")
    const pl = statementCsv(s, undefined, "pl").split("\r\n")
    const en = statementCsv(s, undefined, "en").split("\r\n")
    expect(pl[0]).toBe(
      "sekcja,data,użytkownik,model,zapytania,tokeny_wejściowe,tokeny_wyjściowe,tokeny_razem,tokeny_z_pamięci,tokeny_rozumowania,koszt_usd,narzut,kurs,tabela_nbp,data_tabeli,kwota_pln,uwagi"
    )
    expect(pl).toContain("stan,,,,,,,,,,,,,,,,zamknięty 2025-12-07 01:15:24 (czasu warszawskiego) przez: Agnieszka Żurawska (panel)")
    expect(pl).toContain("korekta,2025-10-26,Łukasz Żółć,openai/gpt-4o,1,10,5,15,0,0,2.00,1.3,3.6210,207/A/NBP/2025,2025-10-24,9.41," +
      "2025-10 był już zamknięty; przebieg nr 12 (harmonogram) znalazł inne dane za 2025-10-26")
    // Every figure column the same, line for line.
    const figures = (line: string) => line.split(",").slice(4, 16).join(",")
    expect(pl.length).toBe(en.length)
    for (let i = 1; i < en.length; i++) {
      if (en[i].startsWith("line,") || en[i].includes(" total,") || en[i].startsWith("total,")) expect(figures(pl[i])).toBe(figures(en[i]))
    }
    const excel = statementCsv(s, "excel-pl", "pl")
    expect(excel.startsWith("\uFEFFsekcja;data;użytkownik;")).toBe(true)
    expect(excel).toContain(";5879,06;pozycje i korekty\r\n")
  })
})
