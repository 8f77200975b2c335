/**
 * CSV for spreadsheets (RFC 4180): a header row, CRLF line ends, fields quoted only when they hold a
 * comma, a quote or a line break (quotes doubled). UTF-8, decimal points, no thousands separators —
 * the values are written exactly as the JSON API spells them.
 */

export type CsvValue = string | number | null | undefined

const needsQuotes = /[",\r\n]/

export const field = (value: CsvValue): string => {
  const text = value === null || value === undefined ? "" : String(value)
  return needsQuotes.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text
}

/** `columns` names the keys of each record, in order; the header row is the keys themselves. */
export const toCsv = <K extends string>(
  columns: ReadonlyArray<K>,
  records: ReadonlyArray<{ readonly [key in K]: CsvValue }>
): string => {
  const lines = [columns.map(field).join(",")]
  for (const r of records) lines.push(columns.map((c) => field(r[c])).join(","))
  return lines.join("\r\n") + "\r\n"
}
