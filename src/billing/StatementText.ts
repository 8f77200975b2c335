/**
 * The statement as a person reads it, in Polish (the default) or English: the same figures as the
 * JSON and the CSV, laid out as one document that both the PDF and the printable view draw, so the
 * two never say different things.
 *
 * - Money in the language's style: `1 234,56 zł` and `55,6139176 USD` in Polish (every decimal of
 *   USD the CSV has; groups of three digits split by a no-break space), `1,234.56 PLN` and
 *   `55.6139176 USD` in English. Counts, rates and markups the same way.
 * - Dates as `YYYY-MM-DD` in both languages; times in the batch's time zone (Warsaw), never UTC.
 * - The seller and the buyer from configuration; who closed the month (the name given at close and
 *   the way it was closed) and the reason given.
 * - The lines grouped per user (users, then models, in Polish alphabetical order) with subtotals.
 * - The rounding rule in words.
 */
import { BigDecimal } from "effect"
import { formatDecimal } from "../domain/Money.js"
import type { ExchangeRateRule } from "../domain/RateRule.js"
import type { Statement } from "../api/StatementModel.js"

export type StatementLang = "pl" | "en"
export const statementLangs: ReadonlyArray<StatementLang> = ["pl", "en"]

export interface Party {
  readonly name: string | undefined
  readonly nip: string | undefined
  readonly address: string | undefined
}

/** What the statement says beyond its figures: the parties, the time zone, the rate rule. */
export interface StatementContext {
  readonly seller: Party
  readonly buyer: Party
  readonly timeZone: string
  readonly exchangeRateRule: ExchangeRateRule
}

// ---- formats ---------------------------------------------------------------------------------------

const NBSP = "\u00a0"

/** A plain decimal or integer text (`-1234.5600`, `250000`) in the language's style, every digit kept. */
export const formatNumber = (lang: StatementLang, text: string): string => {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (m === null) return text
  const [, sign, int, frac] = m
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, lang === "pl" ? NBSP : ",")
  return `${sign}${grouped}${frac === undefined ? "" : (lang === "pl" ? "," : ".") + frac}`
}

/** `1 234,56 zł` / `1,234.56 PLN`. */
export const formatPln = (lang: StatementLang, text: string) =>
  lang === "pl" ? `${formatNumber(lang, text)}${NBSP}zł` : `${formatNumber(lang, text)}${NBSP}PLN`

/** `55,6139176 USD` / `55.6139176 USD`: every decimal the CSV has. */
export const formatUsdText = (lang: StatementLang, text: string) => `${formatNumber(lang, text)}${NBSP}USD`

/** A markup list (`1.3; 1.45`) or a rate in the language's style. */
const formatList = (lang: StatementLang, text: string) =>
  text.split("; ").map((t) => formatNumber(lang, t)).join("; ")

const zoneName = (lang: StatementLang, timeZone: string) =>
  timeZone === "Europe/Warsaw" ? (lang === "pl" ? "czasu warszawskiego" : "Warsaw time") : timeZone

/** An ISO instant as `YYYY-MM-DD HH:MM:SS` on the wall clock of `timeZone`, with the zone named. */
export const formatInstant = (lang: StatementLang, timeZone: string, iso: string): string => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23"
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value])
  )
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} (${zoneName(lang, timeZone)})`
}

let collator: Intl.Collator | undefined
/**
 * Polish alphabetical order (ą after a, ł after l, case ignored first). The collator is made on
 * first use: ICU's collation tables are not touched (nor held in memory) by a server that never
 * writes a statement.
 */
export const polishOrder = {
  compare: (a: string, b: string): number =>
    (collator ??= new Intl.Collator("pl", { sensitivity: "variant", numeric: true })).compare(a, b)
}

// ---- words -----------------------------------------------------------------------------------------

const WORDS = {
  pl: {
    title: (m: string) => `Zestawienie zużycia za ${m}`,
    seller: "Sprzedawca",
    buyer: "Nabywca",
    org: "Organizacja (identyfikator)",
    period: "Okres",
    status: "Stan",
    open: "otwarty (liczby mogą się jeszcze zmienić)",
    closed: "zamknięty",
    closedAt: "Zamknięto",
    closedBy: "Zamknięty przez",
    reason: "Powód podany przy zamknięciu",
    noReason: "nie podano",
    reconciliation: "Uzgodnienie z OpenRouter przy zamknięciu",
    sha: "SHA-256 zestawienia CSV przy zamknięciu (CSV w wersji angielskiej, dialekt domyślny)",
    generatedAt: "Wygenerowano",
    unset: (v: string) => `— (nie ustawiono ${v})`,
    via: { cli: "wiersz poleceń", api: "API", dashboard: "panel" },
    linesHeading: "Zużycie według użytkowników i modeli",
    adjustmentsHeading: "Korekty za wcześniejsze, zamknięte miesiące",
    none: "Brak.",
    ratesHeading: "Kursy NBP (tabela A, kurs średni USD)",
    markupHeading: "Narzut",
    totalsHeading: "Razem (pozycje i korekty)",
    ruleHeading: "Jak wyliczono kwoty",
    user: "Użytkownik",
    model: "Model",
    requests: "Zapytania",
    inputTokens: "Tokeny wejściowe",
    outputTokens: "Tokeny wyjściowe",
    cachedTokens: "W tym z pamięci podręcznej",
    reasoningTokens: "W tym rozumowania",
    totalTokens: "Tokeny razem",
    usd: "Koszt USD",
    markup: "Narzut",
    rate: "Kurs (tabela, data)",
    pln: "Kwota PLN",
    usageDay: "Dzień użycia",
    tableNo: "Numer tabeli",
    tableDate: "Data tabeli",
    rateOnly: "Kurs",
    days: "Dni",
    from: "Od",
    to: "Do",
    subtotal: "Razem użytkownik",
    linesTotal: "Razem pozycje",
    adjustmentsTotal: "Razem korekty",
    total: "Razem do zapłaty (netto)",
    kind: "Pozycja",
    adjustmentNote: (rate: string, table: string, date: string, markup: string, reason: string) =>
      `kurs ${rate} (tabela ${table} z ${date}), narzut ${markup}; powód: ${reason}`,
    rule: (rule: ExchangeRateRule) => [
      "Kwotę w złotych wylicza się osobno dla każdego dnia, użytkownika i modelu: koszt w USD (dokładny, tak jak " +
      "podaje go OpenRouter) mnoży się przez narzut obowiązujący w tym dniu i przez średni kurs USD z tabeli A NBP " +
      (rule === "same-day"
        ? "z dnia użycia (a gdy tego dnia nie było tabeli — z ostatniej wcześniejszej), "
        : "z ostatniego dnia roboczego przed dniem użycia, ") +
      "a wynik zaokrągla się do pełnego grosza: pół grosza i więcej w górę, mniej niż pół grosza w dół.",
      "Sumy (razem dla użytkownika, pozycje, korekty, razem) są sumami tak zaokrąglonych kwot. Korekty to różnice " +
      "znalezione później dla dni miesięcy już zamkniętych; wylicza się je po kursie i narzucie pierwotnego dnia " +
      "i dolicza do tego miesiąca."
    ]
  },
  en: {
    title: (m: string) => `Usage statement for ${m}`,
    seller: "Seller",
    buyer: "Buyer",
    org: "Organisation (id)",
    period: "Period",
    status: "Status",
    open: "open (figures may still change)",
    closed: "closed",
    closedAt: "Closed at",
    closedBy: "Closed by",
    reason: "Reason given at close",
    noReason: "none given",
    reconciliation: "Reconciliation with OpenRouter at close",
    sha: "SHA-256 of the statement CSV when closed (English CSV, default dialect)",
    generatedAt: "Generated at",
    unset: (v: string) => `— (${v} not set)`,
    via: { cli: "command line", api: "API", dashboard: "dashboard" },
    linesHeading: "Usage per user and model",
    adjustmentsHeading: "Adjustments for earlier, closed months",
    none: "None.",
    ratesHeading: "NBP tables used (table A, USD mid rate)",
    markupHeading: "Markup",
    totalsHeading: "Totals (lines plus adjustments)",
    ruleHeading: "How the amounts are worked out",
    user: "User",
    model: "Model",
    requests: "Requests",
    inputTokens: "Input tokens",
    outputTokens: "Output tokens",
    cachedTokens: "Of which cached",
    reasoningTokens: "Of which reasoning",
    totalTokens: "Total tokens",
    usd: "Cost USD",
    markup: "Markup",
    rate: "Rate (table, date)",
    pln: "Amount PLN",
    usageDay: "Usage day",
    tableNo: "Table number",
    tableDate: "Table date",
    rateOnly: "Rate",
    days: "Days",
    from: "From",
    to: "To",
    subtotal: "User total",
    linesTotal: "Lines total",
    adjustmentsTotal: "Adjustments total",
    total: "Total due (net)",
    kind: "Item",
    adjustmentNote: (rate: string, table: string, date: string, markup: string, reason: string) =>
      `rate ${rate} (table ${table} of ${date}), markup ${markup}; reason: ${reason}`,
    rule: (rule: ExchangeRateRule) => [
      "The PLN amount is worked out separately for each day, user and model: the USD cost (exact, as OpenRouter " +
      "reports it) times the markup in force that day times the USD mid rate of NBP's table A " +
      (rule === "same-day"
        ? "of the usage day (or, when there was none that day, the last one before), "
        : "of the last business day before the usage day, ") +
      "rounded to the grosz: half a grosz or more up, less than half a grosz down.",
      "Every total (per user, lines, adjustments, the total) is the sum of those rounded amounts. Adjustments are " +
      "differences found later for days of months already closed; they are priced at the original day's rate and " +
      "markup and added to this month."
    ]
  }
} as const

/**
 * An adjustment's reason in the language: the batch writes
 * `2025-10 was closed; run #12 (schedule) found different figures for 2025-10-26`.
 */
export const reasonText = (lang: StatementLang, reason: string): string => {
  if (lang === "en") return reason
  const m = /^(\d{4}-\d{2}) was closed; run #(\d+) \(([^)]*)\) found different figures for (\d{4}-\d{2}-\d{2})$/.exec(reason)
  if (m === null) return reason
  const trigger = ({ schedule: "harmonogram", "catch-up": "nadrabianie zaległości", cli: "wiersz poleceń", api: "API" } as Record<string, string>)[m[3]] ?? m[3]
  return `${m[1]} był już zamknięty; przebieg nr ${m[2]} (${trigger}) znalazł inne dane za ${m[4]}`
}

/** How the month stood with OpenRouter at close (`Months.ts` words it in English), in the language. */
export const reconciliationText = (lang: StatementLang, text: string): string => {
  if (lang === "en") return text
  if (text === "not reconciled (no OpenRouter management key)") return "nie uzgodniono (brak klucza zarządzającego OpenRouter)"
  if (text === "reconciled with OpenRouter") return "uzgodniono z OpenRouter"
  const m = /^accepted unreconciled: (.*)$/.exec(text)
  if (m === null) return text
  const parts = m[1].split("; ").map((part) => {
    const missing = /^OpenRouter counted requests the ledger never received on (.*)$/.exec(part)
    if (missing !== null) return `OpenRouter policzył zapytania, których rejestr nie otrzymał: ${missing[1].replace(/ to /g, " do ")}`
    const never = /^(.*) (?:was|were) never reconciled$/.exec(part)
    if (never !== null) return `nigdy nie uzgodniono: ${never[1].replace(/ to /g, " do ")}`
    return part
  })
  return `zamknięto mimo braku uzgodnienia: ${parts.join("; ")}`
}

// ---- the document ----------------------------------------------------------------------------------

export type Align = "left" | "right"
export interface DocColumn {
  readonly label: string
  readonly align: Align
  /** relative width (the PDF's points on a landscape A4; the view scales them) */
  readonly width: number
}
/**
 * `group`: a user's name over their lines; `note`: a line of text under the row before (an
 * adjustment's rate and reason), both across the table; `subtotal`/`total`: sums (bold).
 */
export interface DocRow {
  readonly kind: "line" | "group" | "note" | "subtotal" | "total"
  readonly cells: ReadonlyArray<string>
}
export interface DocTable {
  readonly id: string
  readonly columns: ReadonlyArray<DocColumn>
  readonly rows: ReadonlyArray<DocRow>
}
export interface DocSection {
  readonly id: string
  readonly heading: string
  readonly table?: DocTable
  readonly paragraphs?: ReadonlyArray<string>
}
export interface DocFact {
  readonly id: string
  readonly label: string
  readonly value: string
}
export interface StatementDocument {
  readonly lang: StatementLang
  readonly month: string
  readonly title: string
  readonly facts: ReadonlyArray<DocFact>
  readonly sections: ReadonlyArray<DocSection>
  /** the total in PLN and USD, as the document states them */
  readonly totalPln: string
  readonly totalUsd: string
}

interface Figures {
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
  readonly totalTokens: number
  readonly costUsd: string
  readonly costPln: string
}

const partyText = (lang: StatementLang, p: Party, nameVar: string) => {
  const W = WORDS[lang]
  return [
    p.name ?? W.unset(nameVar),
    p.nip === undefined ? undefined : `NIP ${p.nip}`,
    p.address
  ].filter((x) => x !== undefined).join(", ")
}

const sumDecimals = (texts: ReadonlyArray<string>, minDecimals: number) =>
  formatDecimal(texts.reduce((s, t) => BigDecimal.sum(s, BigDecimal.unsafeFromString(t)), BigDecimal.fromBigInt(0n)), minDecimals)

const sumFigures = (rows: ReadonlyArray<Figures>): Figures => ({
  requests: rows.reduce((s, r) => s + r.requests, 0),
  inputTokens: rows.reduce((s, r) => s + r.inputTokens, 0),
  outputTokens: rows.reduce((s, r) => s + r.outputTokens, 0),
  cachedTokens: rows.reduce((s, r) => s + r.cachedTokens, 0),
  reasoningTokens: rows.reduce((s, r) => s + r.reasoningTokens, 0),
  totalTokens: rows.reduce((s, r) => s + r.totalTokens, 0),
  costUsd: sumDecimals(rows.map((r) => r.costUsd), 2),
  costPln: sumDecimals(rows.map((r) => r.costPln), 2)
})

/** Builds the document of a statement in `lang`. */
export const statementDocument = (s: Statement, lang: StatementLang, ctx: StatementContext): StatementDocument => {
  const W = WORDS[lang]
  const n = (v: number | string) => formatNumber(lang, String(v))
  const pln = (t: string) => formatPln(lang, t)
  const usd = (t: string) => formatUsdText(lang, t)
  const when = (iso: string) => formatInstant(lang, ctx.timeZone, iso)
  const tokens = (f: Figures) => [n(f.inputTokens), n(f.outputTokens), n(f.cachedTokens), n(f.reasoningTokens), n(f.totalTokens)]
  const L = (label: string, width: number): DocColumn => ({ label, align: "left", width })
  const R = (label: string, width: number): DocColumn => ({ label, align: "right", width })
  const tokenColumns = [W.inputTokens, W.outputTokens, W.cachedTokens, W.reasoningTokens, W.totalTokens].map((t) => R(t, 60))
  /** requests, the five token counts, USD: the figures every sum row has */
  const counted = (f: Figures) => [n(f.requests), ...tokens(f), usd(f.costUsd)]
  const tabled = (id: string, heading: string, columns: ReadonlyArray<DocColumn>, rows: ReadonlyArray<DocRow>): DocSection =>
    ({ id, heading, table: { id: `statement-${id}`, columns, rows } })

  const c = s.closing
  const facts: Array<DocFact> = [
    { id: "seller", label: W.seller, value: partyText(lang, ctx.seller, "RESELLER_NAME") },
    { id: "buyer", label: W.buyer, value: partyText(lang, { ...ctx.buyer, name: ctx.buyer.name ?? s.clientOrgId }, "CLIENT_NAME") },
    { id: "org", label: W.org, value: s.clientOrgId },
    { id: "period", label: W.period, value: `${s.from} – ${s.to}` },
    { id: "status", label: W.status, value: c === null ? W.open : W.closed }
  ]
  if (c !== null) {
    facts.push(
      { id: "closed-at", label: W.closedAt, value: when(c.closedAt) },
      {
        id: "closed-by",
        label: W.closedBy,
        value: c.closerName === undefined ? W.via[c.closedBy] : `${c.closerName} (${W.via[c.closedBy]})`
      },
      { id: "close-reason", label: W.reason, value: c.reason ?? W.noReason }
    )
    if (c.reconciliation !== undefined) facts.push({ id: "reconciliation", label: W.reconciliation, value: reconciliationText(lang, c.reconciliation) })
    facts.push({ id: "sha256", label: W.sha, value: c.statementSha256 })
  }
  facts.push({ id: "generated-at", label: W.generatedAt, value: when(s.generatedAt) })

  // Lines per user, users and models in Polish alphabetical order, each user with a subtotal.
  const users = new Map<string, Array<(typeof s.lines)[number]>>()
  for (const l of s.lines) users.set(l.user, [...(users.get(l.user) ?? []), l])
  const lineRows: Array<DocRow> = []
  for (const user of [...users.keys()].sort((a, b) => polishOrder.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0))) {
    const lines = [...users.get(user)!].sort((a, b) => polishOrder.compare(a.model, b.model))
    lineRows.push({ kind: "group", cells: [user] })
    for (const l of lines) lineRows.push({ kind: "line", cells: [l.model, ...counted(l), formatList(lang, l.markup), pln(l.costPln)] })
    const sub = sumFigures(lines)
    lineRows.push({ kind: "subtotal", cells: [W.subtotal, ...counted(sub), "", pln(sub.costPln)] })
  }
  const lt = s.linesTotals
  const at = s.adjustmentsTotals
  lineRows.push({ kind: "total", cells: [W.linesTotal, ...counted(lt), "", pln(lt.costPln)] })

  const sections: Array<DocSection> = [
    tabled("lines", W.linesHeading, [L(W.model, 140), R(W.requests, 52), ...tokenColumns, R(W.usd, 110), R(W.markup, 48), R(W.pln, 90)], lineRows),
    s.adjustments.length === 0
      ? { id: "adjustments", heading: W.adjustmentsHeading, paragraphs: [W.none] }
      : tabled("adjustments", W.adjustmentsHeading, [
        L(W.usageDay, 62),
        L(`${W.user} / ${W.model}`, 150),
        R(W.requests, 52),
        ...tokenColumns,
        R(W.usd, 110),
        R(W.pln, 90)
      ], [
        ...s.adjustments.flatMap((a): Array<DocRow> => [
          { kind: "line", cells: [a.originalDate, `${a.user} / ${a.model}`, ...counted(a), pln(a.costPln)] },
          { kind: "note", cells: [W.adjustmentNote(n(a.rate), a.rateTable, a.rateDate, n(a.markup), reasonText(lang, a.reason))] }
        ]),
        { kind: "total", cells: ["", W.adjustmentsTotal, ...counted(at), pln(at.costPln)] }
      ]),
    tabled(
      "rates",
      W.ratesHeading,
      [L(W.usageDay, 100), L(W.tableNo, 150), L(W.tableDate, 100), R(W.rateOnly, 100)],
      s.rates.map((r) => ({ kind: "line", cells: [r.usageDate, r.rateTable, r.rateDate, n(r.rate)] }))
    ),
    tabled(
      "markups",
      W.markupHeading,
      [R(W.markup, 100), R(W.days, 60), L(W.from, 100), L(W.to, 100)],
      s.markups.map((m) => ({ kind: "line", cells: [n(m.markup), n(m.days), m.firstDay, m.lastDay] }))
    ),
    tabled("totals", W.totalsHeading, [L(W.kind, 150), R(W.requests, 52), ...tokenColumns, R(W.usd, 110), R(W.pln, 110)], [
      { kind: "line", cells: [W.linesTotal, ...counted(lt), pln(lt.costPln)] },
      { kind: "line", cells: [W.adjustmentsTotal, ...counted(at), pln(at.costPln)] },
      { kind: "total", cells: [W.total, ...counted(s.totals), pln(s.totals.costPln)] }
    ]),
    { id: "rule", heading: W.ruleHeading, paragraphs: W.rule(ctx.exchangeRateRule) }
  ]

  return {
    lang,
    month: s.month,
    title: W.title(s.month),
    facts,
    sections,
    totalPln: pln(s.totals.costPln),
    totalUsd: usd(s.totals.costUsd)
  }
}

// ---- the CSV's words -------------------------------------------------------------------------------

/** The statement CSV's `section` values in Polish. */
export const polishSections: Record<string, string> = {
  client: "klient",
  period: "okres",
  status: "stan",
  reconciliation: "uzgodnienie",
  line: "pozycja",
  "lines total": "razem pozycje",
  adjustment: "korekta",
  "adjustments total": "razem korekty",
  "nbp table": "tabela nbp",
  markup: "narzut",
  total: "razem"
}

/** The status note of the Polish CSV: closed at (Warsaw time), by whom. */
export const polishStatus = (s: Statement, timeZone: string) => {
  const c = s.closing
  if (c === null) return "otwarty"
  const by = WORDS.pl.via[c.closedBy]
  return `zamknięty ${formatInstant("pl", timeZone, c.closedAt)} przez: ${c.closerName === undefined ? by : `${c.closerName} (${by})`}`
}
