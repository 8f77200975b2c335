/** A strict RFC 4180 reader for checking the CSV the API writes (quoted fields, doubled quotes, CRLF). */
export const parseCsv = (text: string): Array<Array<string>> => {
  const records: Array<Array<string>> = []
  let record: Array<string> = []
  let i = 0
  while (i < text.length) {
    let value = ""
    if (text[i] === "\"") {
      i++
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field")
        if (text[i] === "\"") {
          if (text[i + 1] === "\"") {
            value += "\""
            i += 2
          } else {
            i++
            break
          }
        } else value += text[i++]
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
        if (text[i] === "\"") throw new Error(`a quote inside an unquoted field at ${i}`)
        value += text[i++]
      }
    }
    record.push(value)
    if (text[i] === ",") {
      i++
    } else if (text.startsWith("\r\n", i)) {
      records.push(record)
      record = []
      i += 2
    } else if (i >= text.length) {
      records.push(record)
    } else {
      throw new Error(`bad line end at ${i}: ${JSON.stringify(text.slice(i, i + 10))}`)
    }
  }
  return records
}

/** Records as objects keyed by the header row. */
export const csvObjects = (text: string): Array<Record<string, string>> => {
  const [header, ...rows] = parseCsv(text)
  return rows.map((r) => {
    if (r.length !== header.length) throw new Error(`a record with ${r.length} fields, the header has ${header.length}`)
    return Object.fromEntries(header.map((h, i) => [h, r[i]]))
  })
}
