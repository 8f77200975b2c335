/**
 * The FA(3) invoice draft of a closed month: the structured invoice of KSeF (the Ministry of
 * Finance's schema, namespace `http://crd.gov.pl/wzor/2025/06/25/13775/`), as XML text for an
 * accountant to check and import into a KSeF-capable tool. Nothing here sends anything anywhere.
 *
 * Pure: the closed month's statement, its closing record, the parties and options from the
 * configuration, the issue date and the time of making → the XML, or a one-line refusal. The XML
 * is built node by node with `xmlbuilder2` (which escapes every text and checks the result is
 * well-formed), never by joining strings.
 *
 * Figures:
 *   - a line's net is a sum of amounts already in grosze: per model (INVOICE_LINES=model) the
 *     month's PLN of that model's statement lines plus its adjustments for earlier months, or
 *     (INVOICE_LINES=month) the month's total; so the lines add up to the statement's total PLN
 *     exactly, and the draft is refused if that total is not the closing record's;
 *   - VAT is computed ON THE TOTAL, not per line: VAT = round_half_up(net total × rate, 2), and
 *     gross = net + VAT. Why: the VAT Act (art. 106e ust. 1 pkt 14) asks for the tax on the sum of
 *     net values per rate, and FA(3) has no per-line VAT to fill (P_11Vat is only for art. 106e
 *     ust. 10); its P_14_x is "Kwota podatku od sumy wartości sprzedaży netto". Half up is the
 *     Act's rounding of tax amounts (art. 106e ust. 11: below half a grosz dropped, half and more
 *     up). Per-line rounding could differ from this by a grosz per line; on the total it cannot.
 *   - every sum is exact (effect's BigDecimal) and written with 2 decimals, as FA(3)'s amounts
 *     (`TKwotowy`) require.
 */
import { BigDecimal, Either, Schema } from "effect"
import { formatDecimal, roundHalfUp } from "../domain/Money.js"
import { invoiceNumber, oneLine, type VatRate } from "../domain/Invoice.js"
import { isDay, lastDay } from "../domain/WarsawDay.js"
import type { InvoiceSettings } from "../platform/Config.js"
import type { Statement } from "./Statement.js"
import type { ClosingRecord } from "./SummaryRepo.js"

export const FA3_NAMESPACE = "http://crd.gov.pl/wzor/2025/06/25/13775/"

/** A draft refused as asked (an open month, a party's field unset…): one line, nothing made. */
export class InvoiceRefused extends Schema.TaggedError<InvoiceRefused>()("InvoiceRefused", {
  message: Schema.String
}) {}

export interface InvoiceDraftInput {
  readonly statement: Statement
  /** the month's closing record (undefined: the month is open) */
  readonly closing: ClosingRecord | undefined
  /** the parties and options (`AppSettings.invoice`) */
  readonly invoice: InvoiceSettings
  readonly clientOrgId: string
  /** P_1, YYYY-MM-DD */
  readonly issueDate: string
  /** DataWytworzeniaFa, an ISO-8601 UTC instant */
  readonly generatedAt: string
  /** SystemInfo, e.g. `mai-usage 1.0.0` */
  readonly systemInfo: string
}

export interface DraftLine {
  readonly description: string
  /** net PLN, 2 decimals */
  readonly net: string
}

export interface InvoiceDraft {
  readonly month: string
  readonly number: string
  readonly issueDate: string
  /** P_6, the month's last day; absent from the XML when it is the issue date */
  readonly supplyDate: string
  readonly vatRate: VatRate
  readonly lines: ReadonlyArray<DraftLine>
  readonly net: string
  readonly vat: string
  readonly gross: string
  readonly statementSha256: string
  readonly xml: string
}

/** FA(3) dates (`TDataT`) run from 2006-01-01 to 2050-01-01. */
const FIRST_DATE = "2006-01-01"
const LAST_DATE = "2050-01-01"

/**
 * Why `issueDate` cannot be the issue date of `month`'s invoice, or undefined. Not before the
 * month's last day: the month is invoiced once it is over and closed.
 */
export const issueDateProblem = (month: string, issueDate: string): string | undefined => {
  if (!isDay(issueDate)) return `invalid issue date ${JSON.stringify(issueDate)}: expected YYYY-MM-DD`
  if (issueDate < FIRST_DATE || issueDate > LAST_DATE) return `the issue date ${issueDate} is outside FA(3)'s dates (${FIRST_DATE} to ${LAST_DATE})`
  if (issueDate < lastDay(month)) return `the issue date ${issueDate} is before the end of ${month}, the month it invoices`
  return undefined
}

/** The rate as P_12 spells it, and the sums it fills (P_13_x net, P_14_x VAT; 0 % has no VAT sum). */
const RATE_FIELDS: Record<VatRate, { readonly p12: string; readonly net: string; readonly vat: string | undefined }> = {
  "23": { p12: "23", net: "P_13_1", vat: "P_14_1" },
  "8": { p12: "8", net: "P_13_2", vat: "P_14_2" },
  "5": { p12: "5", net: "P_13_3", vat: "P_14_3" },
  "0": { p12: "0 KR", net: "P_13_6_1", vat: undefined }
}

const ZERO = BigDecimal.fromBigInt(0n)
const pln = (text: string) => BigDecimal.unsafeFromString(text)
const sum = (values: ReadonlyArray<BigDecimal.BigDecimal>) => values.reduce(BigDecimal.sum, ZERO)
const amount = (d: BigDecimal.BigDecimal) => formatDecimal(roundHalfUp(d, 2), 2)

/** FA(3)'s texts are at most 512 characters (`TZnakowy512`) or 256 (`TZnakowy`). */
const fit = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

interface Line {
  readonly description: string
  readonly net: BigDecimal.BigDecimal
}

const SERVICE = "Usługa dostępu do modeli AI przez OpenRouter"

/** What the figure of a line holds of the adjustments for earlier months, if any. */
const adjustmentNote = (adjusted: BigDecimal.BigDecimal | undefined) =>
  adjusted === undefined ? "" : `; w tym korekty za wcześniejsze miesiące: ${amount(adjusted)} PLN`

/** One line per model (statement lines plus adjustments, by model), or one for the month. */
const linesOf = (s: Statement, mode: InvoiceSettings["lines"]): Array<Line> => {
  const period = `okres ${s.from} – ${s.to}`
  const adjustments = s.adjustments.length === 0 ? undefined : pln(s.adjustmentsTotals.costPln)
  if (mode === "month") {
    return [{ description: fit(`${SERVICE}, ${period}${adjustmentNote(adjustments)}`, 512), net: pln(s.totals.costPln) }]
  }
  const models = new Map<string, { own: Array<BigDecimal.BigDecimal>; adjusted: Array<BigDecimal.BigDecimal> }>()
  const of = (model: string) => {
    const m = models.get(model) ?? { own: [], adjusted: [] }
    models.set(model, m)
    return m
  }
  for (const l of s.lines) of(l.model).own.push(pln(l.costPln))
  for (const a of s.adjustments) of(a.model).adjusted.push(pln(a.costPln))
  return [...models.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([model, m]) => {
    const note = adjustmentNote(m.adjusted.length === 0 ? undefined : sum(m.adjusted))
    const fixed = `${SERVICE}: model , ${period}${note}`
    return {
      description: `${SERVICE}: model ${fit(oneLine(model), 512 - fixed.length)}, ${period}${note}`,
      net: sum([...m.own, ...m.adjusted])
    }
  })
}

/** The parties' fields FA(3) requires that are unset, as one line naming each variable. */
const missingParties = (invoice: InvoiceSettings): string | undefined => {
  const missing = [
    invoice.resellerNip === undefined ? "RESELLER_NIP is not set: an FA(3) invoice needs the seller's NIP" : undefined,
    invoice.clientNip === undefined ? "CLIENT_NIP is not set: an FA(3) invoice needs the buyer's NIP" : undefined,
    invoice.resellerName === undefined ? "RESELLER_NAME is not set: an FA(3) invoice needs the seller's name" : undefined,
    invoice.resellerAddress === undefined ? "RESELLER_ADDRESS is not set: an FA(3) invoice needs the seller's address" : undefined
  ].filter((m) => m !== undefined)
  return missing.length === 0 ? undefined : missing.join("; ")
}

type XmlBuilder = typeof import("xmlbuilder2")
let xmlBuilder: XmlBuilder | undefined
let loadingXmlBuilder: Promise<XmlBuilder> | undefined

/**
 * xmlbuilder2 (with the DOM and YAML reader it brings: ~0.5 MB of code, several MB of memory once
 * loaded), loaded on first use: a server that never drafts an invoice never holds it. Call before
 * `buildInvoiceDraft`.
 */
export const loadXmlBuilder = (): Promise<XmlBuilder> =>
  (loadingXmlBuilder ??= import("xmlbuilder2").then((m) =>
    // a CommonJS package: under some loaders its exports are only on `default`
    xmlBuilder = typeof m.create === "function" ? m : (m as unknown as { default: XmlBuilder }).default
  ))

const create: XmlBuilder["create"] = ((...args: Parameters<XmlBuilder["create"]>) => {
  if (xmlBuilder === undefined) throw new Error("xmlbuilder2 is not loaded yet (loadXmlBuilder)")
  return xmlBuilder.create(...args)
}) as XmlBuilder["create"]

export const buildInvoiceDraft = (input: InvoiceDraftInput): Either.Either<InvoiceDraft, InvoiceRefused> => {
  const { statement: s, closing: c, invoice } = input
  const refuse = (message: string) => Either.left(new InvoiceRefused({ message }))
  const month = s.month
  if (c === undefined || s.status !== "closed" || s.closing === null) {
    return refuse(`${month} is open: an invoice is drafted only for a closed month (mai-usage month close ${month})`)
  }
  if (c.month !== month || s.closing.statementSha256 !== c.statementSha256) {
    return refuse(`the statement of ${month} is not the one its closing record names`)
  }
  const parties = missingParties(invoice)
  if (parties !== undefined) return refuse(parties)
  const dateProblem = issueDateProblem(month, input.issueDate)
  if (dateProblem !== undefined) return refuse(dateProblem)

  const lines = linesOf(s, invoice.lines)
  if (lines.length === 0) return refuse(`${month} has nothing to invoice: no usage and no adjustments`)
  const net = sum(lines.map((l) => l.net))
  // The month's net is the closed statement's total, to the grosz.
  if (!BigDecimal.equals(net, pln(s.totals.costPln)) || !BigDecimal.equals(net, pln(c.costPln))) {
    return refuse(`the lines of ${month} add up to ${amount(net)} PLN, not the closed total ${c.costPln} PLN`)
  }
  if (BigDecimal.isNegative(net)) {
    return refuse(
      `${month}'s total is ${amount(net)} PLN, a credit: that is a correcting invoice (KOR) of the earlier month, which this draft does not make`
    )
  }
  const rate = RATE_FIELDS[invoice.vatRate]
  // On the total, half up (see the header): the tax on the sum of net values.
  const vat = roundHalfUp(BigDecimal.multiply(net, BigDecimal.make(BigInt(invoice.vatRate), 2)), 2)
  const gross = BigDecimal.sum(net, vat)
  const number = invoiceNumber(invoice.numberPattern, month, input.clientOrgId)
  const supplyDate = lastDay(month)

  const doc = create({ version: "1.0", encoding: "UTF-8" })
  doc.com(
    ` FA(3) invoice DRAFT made by mai-usage from the closed statement of ${month} (SHA-256 ${c.statementSha256}). ` +
      "Nothing was sent to KSeF: check it, then import it into a KSeF-capable tool. "
  )
  const root = doc.ele(FA3_NAMESPACE, "Faktura")

  const header = root.ele("Naglowek")
  header.ele("KodFormularza", { kodSystemowy: "FA (3)", wersjaSchemy: "1-0E" }).txt("FA")
  header.ele("WariantFormularza").txt("3")
  header.ele("DataWytworzeniaFa").txt(input.generatedAt)
  header.ele("SystemInfo").txt(fit(oneLine(input.systemInfo), 256))

  const seller = root.ele("Podmiot1")
  const sellerId = seller.ele("DaneIdentyfikacyjne")
  sellerId.ele("NIP").txt(invoice.resellerNip!)
  sellerId.ele("Nazwa").txt(fit(oneLine(invoice.resellerName!), 512))
  const sellerAddress = seller.ele("Adres")
  sellerAddress.ele("KodKraju").txt("PL")
  sellerAddress.ele("AdresL1").txt(fit(oneLine(invoice.resellerAddress!), 512))

  const buyer = root.ele("Podmiot2")
  const buyerId = buyer.ele("DaneIdentyfikacyjne")
  buyerId.ele("NIP").txt(invoice.clientNip!)
  buyerId.ele("Nazwa").txt(fit(oneLine(invoice.clientName), 512))
  if (invoice.clientAddress !== undefined) {
    const buyerAddress = buyer.ele("Adres")
    buyerAddress.ele("KodKraju").txt("PL")
    buyerAddress.ele("AdresL1").txt(fit(oneLine(invoice.clientAddress), 512))
  }
  // Not a subordinate unit of a local government (JST), not a member of a VAT group (GV).
  buyer.ele("JST").txt("2")
  buyer.ele("GV").txt("2")

  const fa = root.ele("Fa")
  fa.ele("KodWaluty").txt("PLN")
  fa.ele("P_1").txt(input.issueDate)
  fa.ele("P_2").txt(fit(oneLine(number), 256))
  // The date of supply, "if it differs from the issue date": a continuous service settled monthly
  // is supplied on the last day of its month.
  if (supplyDate !== input.issueDate) fa.ele("P_6").txt(supplyDate)
  fa.ele(rate.net).txt(amount(net))
  if (rate.vat !== undefined) fa.ele(rate.vat).txt(amount(vat))
  fa.ele("P_15").txt(amount(gross))
  const notes = fa.ele("Adnotacje")
  notes.ele("P_16").txt("2") // not the cash method
  notes.ele("P_17").txt("2") // not self-billing
  notes.ele("P_18").txt("2") // not reverse charge
  notes.ele("P_18A").txt("2") // no split payment: the service is not in annex 15 of the VAT Act
  notes.ele("Zwolnienie").ele("P_19N").txt("1") // no exempt supply
  notes.ele("NoweSrodkiTransportu").ele("P_22N").txt("1") // no new means of transport
  notes.ele("P_23").txt("2") // not the simplified triangular procedure
  notes.ele("PMarzy").ele("P_PMarzyN").txt("1") // no margin scheme
  fa.ele("RodzajFaktury").txt("VAT")
  const described = (key: string, value: string) => {
    const d = fa.ele("DodatkowyOpis")
    d.ele("Klucz").txt(key)
    d.ele("Wartosc").txt(fit(oneLine(value), 256))
  }
  // Ties the draft to what was closed: the SHA-256 of the statement CSV the closing recorded.
  described("Zestawienie miesięczne SHA-256", c.statementSha256)
  described("Zestawienie miesięczne", `${month} klienta ${input.clientOrgId}, zamknięte ${c.closedAt}`)
  lines.forEach((l, i) => {
    const row = fa.ele("FaWiersz")
    row.ele("NrWierszaFa").txt(String(i + 1))
    row.ele("P_7").txt(l.description)
    row.ele("P_8A").txt("usł.")
    row.ele("P_8B").txt("1")
    row.ele("P_9A").txt(amount(l.net))
    row.ele("P_11").txt(amount(l.net))
    row.ele("P_12").txt(rate.p12)
  })

  return Either.right({
    month,
    number,
    issueDate: input.issueDate,
    supplyDate,
    vatRate: invoice.vatRate,
    lines: lines.map((l) => ({ description: l.description, net: amount(l.net) })),
    net: amount(net),
    vat: amount(vat),
    gross: amount(gross),
    statementSha256: c.statementSha256,
    xml: doc.end({ prettyPrint: true, wellFormed: true }) + "\n"
  })
}
