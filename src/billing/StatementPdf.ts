/**
 * The statement as a PDF (pdfkit). The font is DejaVu Sans from the `dejavu-fonts-ttf` package,
 * embedded in the file, so Polish letters (ą ć ę ł ń ó ś ź ż) render everywhere and extract as text.
 * Figures are written exactly as the CSV spells them, so `pdftotext` gives the same numbers.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { type Statement, statusText } from "./Statement.js"

const FONT = "dejavu-fonts-ttf/ttf/DejaVuSans.ttf"
const FONT_BOLD = "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"

/**
 * The font file: from the npm package (source runs and a build that keeps node_modules), else a
 * copy in `fonts/` beside the running module (a build that copies its assets).
 */
export const fontPath = (name: string = FONT): string => {
  const base = name.slice(name.lastIndexOf("/") + 1)
  const candidates: Array<() => string> = [
    () => createRequire(import.meta.url).resolve(name),
    () => fileURLToPath(new URL(`./fonts/${base}`, import.meta.url)),
    () => fileURLToPath(new URL(`./assets/fonts/${base}`, import.meta.url))
  ]
  for (const candidate of candidates) {
    try {
      const p = candidate()
      if (Fs.existsSync(p)) return p
    } catch {
      // not there; try the next place
    }
  }
  throw new Error(`the statement font ${base} was not found (npm package dejavu-fonts-ttf, or fonts/ beside the build)`)
}

interface Column {
  readonly label: string
  readonly width: number
  readonly align?: "left" | "right"
}

const col = (label: string, width: number, align?: "right"): Column => ({ label, width, align })

// pdfkit (and its font engine) is loaded on the first PDF request, not at start-up.
const loadPdfKit = () => import("pdfkit").then((m) => m.default)

export const statementPdf = async (s: Statement): Promise<Buffer> => {
  const PDFDocument = await loadPdfKit()
  return new Promise((resolve, reject) => {
    const regular = fontPath(FONT)
    const bold = fontPath(FONT_BOLD)
    const doc = new PDFDocument({
      size: "A4",
      layout: "landscape",
      margin: 36,
      font: regular,
      info: { Title: `Statement ${s.month} — ${s.clientOrgId}`, Author: "mai-usage", Subject: "Usage statement" }
    })
    const chunks: Array<Buffer> = []
    doc.on("data", (c: Buffer) => chunks.push(c))
    doc.on("end", () => resolve(Buffer.concat(chunks)))
    doc.on("error", reject)
    doc.registerFont("regular", regular)
    doc.registerFont("bold", bold)

    const left = doc.page.margins.left
    const bottom = () => doc.page.height - doc.page.margins.bottom

    const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>, footer?: ReadonlyArray<string>) => {
      const line = (cells: ReadonlyArray<string>, font: "regular" | "bold") => {
        doc.font(font).fontSize(8)
        const height = Math.max(
          ...cells.map((c, i) => doc.heightOfString(c, { width: columns[i].width - 4 }))
        ) + 4
        if (doc.y + height > bottom()) doc.addPage()
        const y = doc.y
        let x = left
        cells.forEach((c, i) => {
          doc.text(c, x + 2, y + 2, { width: columns[i].width - 4, align: columns[i].align ?? "left" })
          x += columns[i].width
        })
        doc.x = left
        doc.y = y + height
      }
      line(columns.map((c) => c.label), "bold")
      const width = columns.reduce((w, c) => w + c.width, 0)
      doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.5).stroke()
      for (const r of rows) line(r, "regular")
      if (footer !== undefined) {
        doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.5).stroke()
        line(footer, "bold")
      }
      doc.moveDown(0.8)
    }
    const heading = (text: string) => {
      if (doc.y + 40 > bottom()) doc.addPage()
      doc.font("bold").fontSize(11).text(text, left)
      doc.moveDown(0.3)
    }

    doc.font("bold").fontSize(16).text(`Statement ${s.month}`, left)
    doc.font("regular").fontSize(10)
    doc.text(`Client organisation: ${s.clientOrgId}`)
    doc.text(`Period: ${s.from} to ${s.to}`)
    doc.text(`Status: ${statusText(s)}`)
    if (s.closing?.reconciliation !== undefined) doc.text(`Reconciliation with OpenRouter: ${s.closing.reconciliation}`)
    if (s.closing !== null) doc.text(`Statement CSV SHA-256 when closed: ${s.closing.statementSha256}`)
    doc.text(`Generated at: ${s.generatedAt}`)
    doc.moveDown()

    heading("Usage per user and model")
    table(
      [col("User", 190), col("Model", 170), col("Requests", 60, "right"), col("Tokens", 80, "right"),
        col("USD", 95, "right"), col("Markup", 60, "right"), col("PLN", 110, "right")],
      s.lines.map((l) => [l.user, l.model, String(l.requests), String(l.totalTokens), l.costUsd, l.markup, l.costPln]),
      ["Lines total", "", String(s.linesTotals.requests), String(s.linesTotals.totalTokens), s.linesTotals.costUsd, "",
        s.linesTotals.costPln]
    )

    heading("Adjustments for earlier months")
    if (s.adjustments.length === 0) {
      doc.font("regular").fontSize(9).text("None.", left)
      doc.moveDown(0.8)
    } else {
      table(
        [col("Usage day", 62), col("User", 140), col("Model", 120), col("Requests", 50, "right"),
          col("Tokens", 60, "right"), col("USD", 80, "right"), col("Markup", 45, "right"), col("Rate (table)", 110),
          col("PLN", 100, "right")],
        s.adjustments.map((a) => [a.originalDate, a.user, a.model, String(a.requests), String(a.totalTokens), a.costUsd,
          a.markup, `${a.rate} (${a.rateTable})`, a.costPln]),
        ["Adjustments total", "", "", String(s.adjustmentsTotals.requests), String(s.adjustmentsTotals.totalTokens),
          s.adjustmentsTotals.costUsd, "", "", s.adjustmentsTotals.costPln]
      )
    }

    heading("NBP tables used (table A, USD mid rate)")
    table(
      [col("Usage day", 100), col("Table number", 150), col("Table date", 100), col("Rate", 100, "right")],
      s.rates.map((r) => [r.usageDate, r.rateTable, r.rateDate, r.rate])
    )

    heading("Markup")
    table(
      [col("Markup", 100, "right"), col("Days", 60, "right"), col("From", 100), col("To", 100)],
      s.markups.map((m) => [m.markup, String(m.days), m.firstDay, m.lastDay])
    )

    heading("Totals (lines plus adjustments)")
    doc.font("bold").fontSize(12).text(`PLN ${s.totals.costPln}`, left)
    doc.text(`USD ${s.totals.costUsd}`, left)
    doc.font("regular").fontSize(9).text(
      `${s.totals.requests} requests, ${s.totals.totalTokens} tokens. PLN per row = round_half_up(USD × markup × NBP rate, 2); totals are sums of the rows.`,
      left
    )
    doc.end()
  })
}
