/**
 * A month's statement: what an accountant files. Built from the month's own daily rows (lines per
 * user × model), the adjustments booked into it for earlier, closed months, the NBP tables and
 * markups used, and its open/closed state. Every total is a sum of the lines shown. The CSV holds the
 * same figures as the JSON and the PDF, and no time of generation, so a closed month's CSV is the same
 * bytes whenever it is fetched — its SHA-256 in the closing record identifies it.
 */
import { firstDay, lastDay } from "../domain/WarsawDay.js"
import { type CsvDialect, type CsvValue, polishHeaders, toCsv } from "../domain/Csv.js"
import { billedFields } from "../api/Fields.js"
import { DailyRow, dailyRowColumns, type Totals } from "../api/UsageModel.js"
import { type BilledRow, summarise, totalsOf } from "./Summary.js"
import type { Adjustment, ClosingRecord } from "./SummaryMonths.js"
import { AdjustmentLine, Closing, DayHistory } from "../api/AccountingModel.js"
import { MarkupUsed, Statement, StatementLine } from "../api/StatementModel.js"
import {
  polishSections,
  polishStatus,
  reasonText,
  reconciliationText,
  type StatementLang
} from "./StatementText.js"

export { AdjustmentLine, Closing, DayHistory, MarkupUsed, Statement, StatementLine }

/** An adjustment in the shape the month's sums take (its original day as the date). */
export const adjustmentAsBilled = (a: Adjustment): BilledRow => ({
  costNusd: a.costNusd,
  row: new DailyRow({ date: a.originalDate, ...billedFields(a) })
})

export const adjustmentLine = (a: Adjustment): AdjustmentLine =>
  new AdjustmentLine({ originalDate: a.originalDate, ...billedFields(a), reason: a.reason, createdAt: a.createdAt })

export const closingOf = (c: ClosingRecord): Closing =>
  new Closing({
    closedAt: c.closedAt,
    closedBy: c.closedBy,
    reason: c.reason,
    costUsd: c.costUsd,
    costPln: c.costPln,
    requests: c.requests,
    totalTokens: c.totalTokens,
    statementSha256: c.statementSha256,
    ...(c.reconciliation === null ? {} : { reconciliation: c.reconciliation }),
    ...(c.closerName == null ? {} : { closerName: c.closerName })
  })

export interface StatementInput {
  readonly clientOrgId: string
  readonly month: string
  readonly rows: ReadonlyArray<BilledRow>
  readonly adjustments: ReadonlyArray<Adjustment>
  readonly closing: ClosingRecord | undefined
  readonly generatedAt: string
}

/** The summed fields of totals, as a plain record. */
const sums = (t: Totals) => ({
  requests: t.requests,
  inputTokens: t.inputTokens,
  outputTokens: t.outputTokens,
  totalTokens: t.totalTokens,
  cachedTokens: t.cachedTokens,
  reasoningTokens: t.reasoningTokens,
  costUsd: t.costUsd,
  costPln: t.costPln
})

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export const buildStatement = (input: StatementInput): Statement => {
  const byLine = new Map<string, Array<BilledRow>>()
  for (const r of input.rows) {
    const k = JSON.stringify([r.row.user, r.row.model])
    const list = byLine.get(k) ?? []
    list.push(r)
    byLine.set(k, list)
  }
  const lines = [...byLine.entries()].sort(([a], [b]) => compare(a, b)).map(([, rows]) => {
    const t = totalsOf(rows)
    return new StatementLine({
      user: rows[0].row.user,
      model: rows[0].row.model,
      ...sums(t),
      markup: [...new Set(rows.map((r) => r.row.markup))].join("; ")
    })
  })
  const adjusted = input.adjustments.map(adjustmentAsBilled)
  const markupDays = new Map<string, Set<string>>()
  for (const r of input.rows) {
    const days = markupDays.get(r.row.markup) ?? new Set<string>()
    days.add(r.row.date)
    markupDays.set(r.row.markup, days)
  }
  const markups = [...markupDays.entries()].map(([markup, days]) => {
    const sorted = [...days].sort()
    return new MarkupUsed({ markup, firstDay: sorted[0], lastDay: sorted[sorted.length - 1], days: sorted.length })
  }).sort((a, b) => compare(a.firstDay, b.firstDay))
  const c = input.closing
  return new Statement({
    clientOrgId: input.clientOrgId,
    month: input.month,
    from: firstDay(input.month),
    to: lastDay(input.month),
    status: c === undefined ? "open" : "closed",
    closing: c === undefined ? null : closingOf(c),
    lines,
    linesTotals: totalsOf(input.rows),
    adjustments: input.adjustments.map(adjustmentLine),
    adjustmentsTotals: totalsOf(adjusted),
    rates: summarise(input.rows).rates,
    markups,
    totals: totalsOf([...input.rows, ...adjusted]),
    generatedAt: input.generatedAt
  })
}

export const statementColumns = ["section", ...dailyRowColumns, "note"] as const

type CsvRecord = { [k in (typeof statementColumns)[number]]?: CsvValue }

/**
 * The status line of the canonical (English) CSV. Its wording is part of the bytes whose SHA-256 a
 * closing records, so it never changes for a month closed before: the closer's name (asked since
 * migration 0011) is added only when one was given.
 */
export const statusText = (s: Statement) =>
  s.closing === null
    ? "open"
    : `closed at ${s.closing.closedAt} by ${s.closing.closedBy}${s.closing.closerName === undefined ? "" : ` (${s.closing.closerName})`}`

/** The CSV's words in one language: English is the canonical CSV (hashed at close), Polish is for people. */
interface CsvWords {
  readonly section: (key: string) => string
  readonly period: (from: string, to: string) => string
  readonly status: (s: Statement) => string
  readonly reason: (reason: string) => string
  readonly reconciliation: (text: string) => string
  readonly adjustmentsNote: string
  readonly markupNote: (m: MarkupUsed) => string
  readonly totalNote: string
}

const englishWords: CsvWords = {
  section: (key) => key,
  period: (from, to) => `${from} to ${to}`,
  status: statusText,
  reason: (reason) => reason,
  reconciliation: (text) => text,
  adjustmentsNote: "adjustments for earlier months",
  markupNote: (m) => `${m.days} day(s), ${m.firstDay} to ${m.lastDay}`,
  totalNote: "lines plus adjustments"
}

const polishWords = (timeZone: string): CsvWords => ({
  section: (key) => polishSections[key] ?? key,
  period: (from, to) => `${from} do ${to}`,
  status: (s) => polishStatus(s, timeZone),
  reason: (reason) => reasonText("pl", reason),
  reconciliation: (text) => reconciliationText("pl", text),
  adjustmentsNote: "korekty za wcześniejsze miesiące",
  markupNote: (m) => `dni: ${m.days}, ${m.firstDay} do ${m.lastDay}`,
  totalNote: "pozycje i korekty"
})

/** The statement's records, one per CSV line; the section column says what each line is. */
export const statementRecords = (s: Statement, w: CsvWords = englishWords): Array<CsvRecord> => [
  { section: w.section("client"), note: s.clientOrgId },
  { section: w.section("period"), date: s.month, note: w.period(s.from, s.to) },
  { section: w.section("status"), note: w.status(s) },
  ...(s.closing?.reconciliation === undefined ? [] : [{ section: w.section("reconciliation"), note: w.reconciliation(s.closing.reconciliation) }]),
  ...s.lines.map((l): CsvRecord => ({ section: w.section("line"), ...l })),
  { section: w.section("lines total"), ...sums(s.linesTotals) },
  ...s.adjustments.map((a): CsvRecord => ({ section: w.section("adjustment"), date: a.originalDate, ...a, note: w.reason(a.reason) })),
  { section: w.section("adjustments total"), ...sums(s.adjustmentsTotals), note: w.adjustmentsNote },
  ...s.rates.map((r): CsvRecord => ({ section: w.section("nbp table"), date: r.usageDate, rate: r.rate, rateTable: r.rateTable, rateDate: r.rateDate })),
  ...s.markups.map((m): CsvRecord => ({ section: w.section("markup"), markup: m.markup, note: w.markupNote(m) })),
  { section: w.section("total"), ...sums(s.totals), note: w.totalNote }
]

const fill = (r: CsvRecord) =>
  Object.fromEntries(statementColumns.map((c) => [c, r[c] ?? ""])) as { [k in (typeof statementColumns)[number]]: CsvValue }

export type StatementDialect = CsvDialect

const textColumns = ["section", "date", "user", "model", "rateTable", "rateDate", "note"]

/**
 * The statement CSV. English in the default dialect (rfc4180) is the canonical CSV, the one whose
 * SHA-256 a closing records: its bytes never change for a closed month. Polish (the API's default)
 * has the same lines and figures with Polish headers, sections and notes, and times in `timeZone`.
 */
export const statementCsv = (
  s: Statement,
  dialect?: StatementDialect,
  lang: StatementLang = "en",
  timeZone = "Europe/Warsaw"
): string =>
  lang === "en"
    ? toCsv(statementColumns, statementRecords(s).map(fill), { dialect, textColumns })
    : toCsv(statementColumns, statementRecords(s, polishWords(timeZone)).map(fill), { dialect, textColumns, headers: polishHeaders })
