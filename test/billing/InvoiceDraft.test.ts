/**
 * The FA(3) draft builder (src/billing/InvoiceDraft.ts) over hand-made statements: every draft
 * validates against the official XSD (xmllint, offline, through the catalog), the figures follow
 * the stated rule (lines = the statement's PLN by model, adjustments included; VAT on the total,
 * half up; gross = net + VAT), each VAT rate fills its own fields, and each refusal is one line.
 */
import { Either } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { DailyRow } from "../../src/api/UsageModel.js"
import { buildInvoiceDraft, FA3_NAMESPACE, type InvoiceDraftInput, loadXmlBuilder } from "../../src/billing/InvoiceDraft.js"
import { buildStatement } from "../../src/billing/Statement.js"
import type { Adjustment, ClosingRecord } from "../../src/billing/SummaryRepo.js"
import { type InvoiceSettings, testSettings } from "../../src/platform/Config.js"
import { grosze, invoiceLines, plnOf, requireXmllint, text, texts, validateFa3, vatOf } from "../support/fa3.js"

const SHA = "0123456789abcdef".repeat(4)
const GPT = "openai/gpt-4o"
const HAIKU = "anthropic/claude-haiku-4.5"

let id = 0
const row = (date: string, user: string, model: string, costPln: string, markup = "1.3") => ({
  costNusd: 1_000_000n,
  row: new DailyRow({
    date,
    user,
    model,
    requests: 1,
    inputTokens: 10,
    outputTokens: 5,
    totalTokens: 15,
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd: "0.001",
    markup,
    rate: "3.6500",
    rateTable: "210/A/NBP/2025",
    rateDate: "2025-10-30",
    costPln
  })
})

const adjustment = (originalDate: string, user: string, model: string, costPln: string): Adjustment => ({
  id: ++id,
  month: "2025-11",
  originalDate,
  user,
  model,
  requests: 1,
  inputTokens: 1,
  outputTokens: 1,
  totalTokens: 2,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd: 1n,
  costUsd: "0.000000001",
  markup: "1.3",
  rate: "3.6500",
  rateTable: "210/A/NBP/2025",
  rateDate: "2025-10-30",
  costPln,
  reason: "2025-10 was closed; run #7 (cli) found different figures",
  batchRunId: 7,
  createdAt: "2025-11-20T12:00:00.000Z"
})

const PARTIES: Partial<InvoiceSettings> = {
  resellerName: "Reseller „Alfa” sp. z o.o. & Co <test>",
  resellerNip: "1234563218",
  resellerAddress: "ul. Żółwia 3/5, 02-601 Warszawa",
  clientName: "ACME sp. z o.o.",
  clientNip: "7010013284",
  clientAddress: "ul. Prosta 20, 00-850 Warszawa"
}

/** A closed November: its own rows, two adjustments for October; closing totals as the statement's. */
const input = (
  o: {
    rows?: ReturnType<typeof row>[]
    adjustments?: Adjustment[]
    invoice?: Partial<InvoiceSettings>
    open?: boolean
    issueDate?: string
  } = {}
): InvoiceDraftInput => {
  const rows = o.rows ?? [
    row("2025-11-03", "anna", GPT, "10.01"),
    row("2025-11-04", "anna", GPT, "0.02"),
    row("2025-11-04", "jan", GPT, "5.00"),
    row("2025-11-20", "jan", HAIKU, "1.50", "1.45")
  ]
  const adjustments = o.adjustments ?? [adjustment("2025-10-26", "jan", HAIKU, "0.75"), adjustment("2025-10-31", "ola", GPT, "-0.20")]
  const draft = (closing: ClosingRecord | undefined) =>
    buildStatement({ clientOrgId: "acme", month: "2025-11", rows, adjustments, closing, generatedAt: "2025-12-02T08:00:00.000Z" })
  const open = draft(undefined)
  const closing: ClosingRecord | undefined = o.open === true ? undefined : {
    month: "2025-11",
    closedAt: "2025-12-01T09:00:00.000Z",
    closedBy: "cli",
    reason: null,
    requests: open.totals.requests,
    totalTokens: open.totals.totalTokens,
    costUsd: open.totals.costUsd,
    costPln: open.totals.costPln,
    statementSha256: SHA,
    reconciliation: null
  }
  return {
    statement: draft(closing),
    closing,
    invoice: { ...testSettings({ clientOrgId: "acme" }).invoice, ...PARTIES, ...o.invoice },
    clientOrgId: "acme",
    issueDate: o.issueDate ?? "2025-12-02",
    generatedAt: "2025-12-02T08:00:00.000Z",
    systemInfo: "mai-usage test"
  }
}

const drafted = (i: InvoiceDraftInput) => {
  const r = buildInvoiceDraft(i)
  if (Either.isLeft(r)) throw new Error(`refused: ${r.left.message}`)
  const check = validateFa3(r.right.xml)
  expect(check.output).toBe("- validates")
  expect(check.code).toBe(0)
  return r.right
}

const refusal = (i: InvoiceDraftInput) => {
  const r = buildInvoiceDraft(i)
  expect(Either.isLeft(r)).toBe(true)
  const message = Either.isLeft(r) ? r.left.message : ""
  expect(message).not.toContain("\n")
  return message
}

beforeAll(async () => {
  requireXmllint()
  await loadXmlBuilder()
})

describe("the FA(3) draft of a closed month", () => {
  it("validates, with the header, the parties and the annotations FA(3) requires", () => {
    const d = drafted(input())
    const xml = d.xml
    expect(xml).toContain(`<Faktura xmlns="${FA3_NAMESPACE}">`)
    expect(xml).toContain(`<KodFormularza kodSystemowy="FA (3)" wersjaSchemy="1-0E">FA</KodFormularza>`)
    expect(text(xml, "WariantFormularza")).toBe("3")
    expect(text(xml, "DataWytworzeniaFa")).toBe("2025-12-02T08:00:00.000Z")
    expect(text(xml, "SystemInfo")).toBe("mai-usage test")
    expect(texts(xml, "NIP")).toEqual(["1234563218", "7010013284"])
    // Escaped by the builder, read back exactly.
    expect(texts(xml, "Nazwa")).toEqual(["Reseller „Alfa” sp. z o.o. & Co <test>", "ACME sp. z o.o."])
    expect(xml).toContain("&amp; Co &lt;test&gt;")
    expect(texts(xml, "AdresL1")).toEqual(["ul. Żółwia 3/5, 02-601 Warszawa", "ul. Prosta 20, 00-850 Warszawa"])
    expect([text(xml, "JST"), text(xml, "GV")]).toEqual(["2", "2"])
    expect(text(xml, "KodWaluty")).toBe("PLN")
    expect(text(xml, "P_1")).toBe("2025-12-02")
    expect(text(xml, "P_2")).toBe("2025/11/acme")
    expect(text(xml, "P_6")).toBe("2025-11-30")
    expect(text(xml, "RodzajFaktury")).toBe("VAT")
    for (const [field, value] of [["P_16", "2"], ["P_17", "2"], ["P_18", "2"], ["P_18A", "2"], ["P_19N", "1"], ["P_22N", "1"], ["P_23", "2"], ["P_PMarzyN", "1"]]) {
      expect(text(xml, field), field).toBe(value)
    }
    // Tied to what was closed.
    expect(texts(xml, "Klucz")).toEqual(["Zestawienie miesięczne SHA-256", "Zestawienie miesięczne"])
    expect(texts(xml, "Wartosc")[0]).toBe(SHA)
    expect(texts(xml, "Wartosc")[1]).toBe("2025-11 klienta acme, zamknięte 2025-12-01T09:00:00.000Z")
    expect(xml).toContain("Nothing was sent to KSeF")
  })

  it("has one line per model holding its adjustments, adding up to the statement's total; VAT on the total, half up", () => {
    const i = input()
    const d = drafted(i)
    const lines = invoiceLines(d.xml)
    // GPT: 10.01 + 0.02 + 5.00 − 0.20 (a credit for October); Haiku: 1.50 + 0.75.
    expect(lines.map((l) => [l.nr, l.net, l.unitPrice, l.quantity, l.rate])).toEqual([
      ["1", "2.25", "2.25", "1", "23"],
      ["2", "14.83", "14.83", "1", "23"]
    ])
    expect(lines[0].description).toBe(`Usługa dostępu do modeli AI przez OpenRouter: model ${HAIKU}, okres 2025-11-01 – 2025-11-30; w tym korekty za wcześniejsze miesiące: 0.75 PLN`)
    expect(lines[1].description).toContain(`model ${GPT}, okres 2025-11-01 – 2025-11-30; w tym korekty za wcześniejsze miesiące: -0.20 PLN`)
    const net = lines.reduce((n, l) => n + grosze(l.net), 0n)
    expect(plnOf(net)).toBe(i.statement.totals.costPln)
    expect(plnOf(net)).toBe(i.closing!.costPln)
    expect(text(d.xml, "P_13_1")).toBe("17.08")
    // 17.08 × 23 % = 3.9284 → 3.93
    expect(text(d.xml, "P_14_1")).toBe(plnOf(vatOf(net, 23)))
    expect(text(d.xml, "P_14_1")).toBe("3.93")
    expect(text(d.xml, "P_15")).toBe(plnOf(net + vatOf(net, 23)))
    expect([d.net, d.vat, d.gross]).toEqual(["17.08", "3.93", "21.01"])
  })

  it("rounds the VAT of the total, not of each line, and half up (not half even)", () => {
    // Three lines of 0.02: per line 0.0046 → 0.00 each; on the total 0.06 × 23 % = 0.0138 → 0.01.
    const small = drafted(input({
      rows: [row("2025-11-03", "a", "m/one", "0.02"), row("2025-11-03", "a", "m/two", "0.02"), row("2025-11-03", "a", "m/three", "0.02")],
      adjustments: []
    }))
    expect([text(small.xml, "P_13_1"), text(small.xml, "P_14_1"), text(small.xml, "P_15")]).toEqual(["0.06", "0.01", "0.07"])
    // 1.50 × 23 % = 0.345: half up 0.35 (half even would give 0.34).
    const half = drafted(input({ rows: [row("2025-11-03", "a", GPT, "1.50")], adjustments: [] }))
    expect([text(half.xml, "P_14_1"), text(half.xml, "P_15")]).toEqual(["0.35", "1.85"])
  })

  it.each([
    ["23", "23", "P_13_1", "P_14_1", "0.35"],
    ["8", "8", "P_13_2", "P_14_2", "0.12"],
    ["5", "5", "P_13_3", "P_14_3", "0.08"],
    ["0", "0 KR", "P_13_6_1", undefined, "0.00"]
  ] as const)("INVOICE_VAT_RATE=%s: P_12 %j, the sums in %s/%s", (vatRate, p12, netField, vatField, vat) => {
    // 1.50 × 8 % = 0.12; × 5 % = 0.075 → 0.08 (half up).
    const d = drafted(input({ rows: [row("2025-11-03", "a", GPT, "1.50")], adjustments: [], invoice: { vatRate } }))
    expect(invoiceLines(d.xml).map((l) => l.rate)).toEqual([p12])
    expect(text(d.xml, netField)).toBe("1.50")
    for (const other of ["P_13_1", "P_13_2", "P_13_3", "P_13_6_1"].filter((f) => f !== netField)) expect(text(d.xml, other)).toBeUndefined()
    if (vatField !== undefined) expect(text(d.xml, vatField)).toBe(vat)
    expect(d.xml).not.toMatch(vatField === undefined ? /<P_14_/ : /<P_14_\dW>/)
    expect(text(d.xml, "P_15")).toBe(plnOf(150n + grosze(vat)))
  })

  it("INVOICE_LINES=month: one line for the whole month, adjustments included", () => {
    const d = drafted(input({ invoice: { lines: "month" } }))
    const lines = invoiceLines(d.xml)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ nr: "1", net: "17.08", unitPrice: "17.08", quantity: "1", rate: "23" })
    expect(lines[0].description).toBe(
      "Usługa dostępu do modeli AI przez OpenRouter, okres 2025-11-01 – 2025-11-30; w tym korekty za wcześniejsze miesiące: 0.55 PLN"
    )
  })

  it("the number follows INVOICE_NUMBER_PATTERN; no P_6 when the issue date is the day of supply; the buyer's name defaults to the org id", () => {
    const d = drafted(input({
      issueDate: "2025-11-30",
      invoice: { numberPattern: "FV/{CLIENT}/{MM}/{YYYY}", clientName: "acme", clientAddress: undefined }
    }))
    expect(text(d.xml, "P_2")).toBe("FV/acme/11/2025")
    expect(text(d.xml, "P_1")).toBe("2025-11-30")
    expect(text(d.xml, "P_6")).toBeUndefined()
    expect(texts(d.xml, "Nazwa")[1]).toBe("acme")
    expect(texts(d.xml, "AdresL1")).toHaveLength(1)
  })

  it("keeps an odd model name one line, escaped and within FA(3)'s 512 characters", () => {
    const long = `vendor/${"x".repeat(700)}`
    const d = drafted(input({
      rows: [row("2025-11-03", "a", "weird\u0001model\n<&>\u2028end", "1.00"), row("2025-11-03", "a", long, "2.00")],
      adjustments: []
    }))
    const [first, second] = invoiceLines(d.xml).map((l) => l.description)
    expect(second).toContain("model weird model <&> end, okres")
    expect(first.length).toBe(512)
    expect(first).toMatch(/x…, okres 2025-11-01 – 2025-11-30$/)
  })
})

describe("refused, in one line", () => {
  it("an open month", () => {
    expect(refusal(input({ open: true }))).toBe(
      "2025-11 is open: an invoice is drafted only for a closed month (mai-usage month close 2025-11)"
    )
  })

  it("a party's NIP, the seller's name or address not configured, naming each variable", () => {
    expect(refusal(input({ invoice: { resellerNip: undefined } }))).toBe(
      "RESELLER_NIP is not set: an FA(3) invoice needs the seller's NIP"
    )
    expect(refusal(input({ invoice: { clientNip: undefined } }))).toBe("CLIENT_NIP is not set: an FA(3) invoice needs the buyer's NIP")
    expect(refusal(input({ invoice: { resellerName: undefined, resellerAddress: undefined } }))).toBe(
      "RESELLER_NAME is not set: an FA(3) invoice needs the seller's name; " +
        "RESELLER_ADDRESS is not set: an FA(3) invoice needs the seller's address"
    )
  })

  it("an issue date before the month is over, or outside FA(3)'s dates", () => {
    expect(refusal(input({ issueDate: "2025-11-29" }))).toBe("the issue date 2025-11-29 is before the end of 2025-11, the month it invoices")
    expect(refusal(input({ issueDate: "2050-01-02" }))).toBe("the issue date 2050-01-02 is outside FA(3)'s dates (2006-01-01 to 2050-01-01)")
  })

  it("a month whose total is a credit, or that has nothing to invoice", () => {
    expect(refusal(input({ rows: [], adjustments: [adjustment("2025-10-31", "ola", GPT, "-0.20")] }))).toBe(
      "2025-11's total is -0.20 PLN, a credit: that is a correcting invoice (KOR) of the earlier month, which this draft does not make"
    )
    expect(refusal(input({ rows: [], adjustments: [] }))).toBe("2025-11 has nothing to invoice: no usage and no adjustments")
  })

  it("a closing record that does not match the statement", () => {
    const i = input()
    expect(refusal({ ...i, closing: { ...i.closing!, costPln: "17.09" } })).toBe(
      "the lines of 2025-11 add up to 17.08 PLN, not the closed total 17.09 PLN"
    )
    expect(refusal({ ...i, closing: { ...i.closing!, statementSha256: "f".repeat(64) } })).toBe(
      "the statement of 2025-11 is not the one its closing record names"
    )
  })
})
