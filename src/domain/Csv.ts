/**
 * Every CSV the service writes goes through here.
 *
 * The default dialect is RFC 4180: a header row, CRLF line ends, fields quoted only when they hold
 * the separator, a quote or a line break (quotes doubled); UTF-8 without BOM, decimal points, no
 * thousands separators — the values exactly as the JSON API spells them.
 *
 * `excel-pl` is the same table for Polish Excel, which opens a file by double-click only when it
 * is `;`-separated with decimal commas and recognises UTF-8 only after a BOM: `;` separator,
 * decimal comma in numbers (not in the text columns), UTF-8 BOM, CRLF.
 *
 * In both, a cell a spreadsheet would run as a formula — starting with `=`, `+`, `-`, `@`, a tab or
 * a carriage return, and not a plain number — gets a leading `'`: user and model names come from
 * the client's callers, and an accountant opens these files.
 */
import { Schema } from "effect"

export type CsvValue = string | number | null | undefined

export const csvDialects = ["rfc4180", "excel-pl"] as const
export type CsvDialect = typeof csvDialects[number]

/** The language of a CSV's header row: `en` names the columns as the JSON does; `pl` in Polish. */
export const csvLangs = ["en", "pl"] as const
export type CsvLang = typeof csvLangs[number]

export const CsvLangParam = Schema.Literal(...csvLangs).annotations({
  identifier: "CsvLang",
  description: "the language of the CSV's header row: en (the JSON's field names; the default of the usage lists) or pl"
})

/** Polish column headers of every CSV (a column not named here keeps its key). */
export const polishHeaders: Readonly<Record<string, string>> = {
  section: "sekcja",
  date: "data",
  usageDate: "dzień_użycia",
  originalDate: "dzień_użycia",
  user: "użytkownik",
  model: "model",
  requests: "zapytania",
  inputTokens: "tokeny_wejściowe",
  outputTokens: "tokeny_wyjściowe",
  totalTokens: "tokeny_razem",
  cachedTokens: "tokeny_z_pamięci",
  reasoningTokens: "tokeny_rozumowania",
  costUsd: "koszt_usd",
  markup: "narzut",
  rate: "kurs",
  rateTable: "tabela_nbp",
  rateDate: "data_tabeli",
  costPln: "kwota_pln",
  reason: "powód",
  createdAt: "zapisano",
  note: "uwagi",
  name: "imię_i_nazwisko",
  email: "e-mail",
  role: "rola",
  groups: "grupy",
  groupId: "id_grupy",
  group: "grupa",
  users: "użytkownicy"
}

/** The header labels of `lang`: undefined (the keys) for English. */
export const headersOf = (lang: CsvLang | undefined) => (lang === "pl" ? polishHeaders : undefined)

/** The `dialect` URL parameter of every CSV endpoint. */
export const CsvDialectParam = Schema.Literal(...csvDialects).annotations({
  identifier: "CsvDialect",
  description: "rfc4180 (default): comma, decimal point, no BOM. excel-pl: for Polish Excel — `;` separator, " +
    "decimal comma, UTF-8 BOM, CRLF. Giving it implies CSV."
})

export interface CsvOptions {
  readonly dialect?: CsvDialect | undefined
  /** Columns holding text (names, ids) whose digits are never rewritten with a decimal comma. */
  readonly textColumns?: ReadonlyArray<string>
  /** The header row's label of a column (e.g. in Polish); a column not named here is headed by its key. */
  readonly headers?: Readonly<Record<string, string>>
}

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
/** A decimal, or several joined by "; " (a day billed at two rates). */
const DECIMAL = /^-?\d+\.\d+(; ?-?\d+\.\d+)*$/
const FORMULA_START = /^[=+\-@\t\r]/

/** `'`-prefixes a cell a spreadsheet would evaluate; a plain number (e.g. `-0.50`) stays as it is. */
export const neutralise = (text: string): string =>
  FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text

const quoted = (text: string, separator: string) =>
  text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text

/** One field of the default dialect. */
export const field = (value: CsvValue): string => cell(value, ",", false)

const cell = (value: CsvValue, separator: string, decimalComma: boolean): string => {
  const text = value === null || value === undefined ? "" : String(value)
  // Judged as written by the API (a decimal point), so `-1.5` stays a number once it is `-1,5`.
  const safe = neutralise(text)
  return quoted(decimalComma && DECIMAL.test(safe) ? safe.replace(/\./g, ",") : safe, separator)
}

/** `columns` names the keys of each record, in order; the header row is the keys themselves (or `headers`). */
export const toCsv = <K extends string>(
  columns: ReadonlyArray<K>,
  records: ReadonlyArray<{ readonly [key in K]: CsvValue }>,
  options: CsvOptions = {}
): string => {
  const excel = options.dialect === "excel-pl"
  const separator = excel ? ";" : ","
  const text = new Set<string>(options.textColumns ?? [])
  const decimals = columns.map((c) => excel && !text.has(c))
  const lines = [columns.map((c) => cell(options.headers?.[c] ?? c, separator, false)).join(separator)]
  for (const r of records) lines.push(columns.map((c, i) => cell(r[c], separator, decimals[i])).join(separator))
  return (excel ? "\uFEFF" : "") + lines.join("\r\n") + "\r\n"
}
