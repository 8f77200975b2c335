/**
 * The statement as a PDF (pdfkit). The font is DejaVu Sans from the `dejavu-fonts-ttf` package,
 * embedded in the file, so Polish letters (ą ć ę ł ń ó ś ź ż) render everywhere and extract as text.
 * It draws the statement's document (`StatementText.ts`): every figure of the CSV, in the document's
 * language's style (`1 234,56 zł` in Polish), so `pdftotext` finds each of them.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import type { DocTable, StatementDocument } from "./StatementText.js"

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

// pdfkit (and its font engine) is loaded on the first PDF request, not at start-up.
const loadPdfKit = () => import("pdfkit").then((m) => m.default)

/** The statement's document (`StatementText.ts`, in its language) as a landscape A4 PDF. */
export const statementPdf = async (d: StatementDocument): Promise<Buffer> => {
  const PDFDocument = await loadPdfKit()
  return new Promise((resolve, reject) => {
    const regular = fontPath(FONT)
    const bold = fontPath(FONT_BOLD)
    const doc = new PDFDocument({
      size: "A4",
      layout: "landscape",
      margin: 36,
      font: regular,
      bufferPages: true,
      lang: d.lang === "pl" ? "pl-PL" : "en-GB",
      info: { Title: d.title, Author: "mai-usage", Subject: d.title }
    })
    const chunks: Array<Buffer> = []
    doc.on("data", (c: Buffer) => chunks.push(c))
    doc.on("end", () => resolve(Buffer.concat(chunks)))
    doc.on("error", reject)
    doc.registerFont("regular", regular)
    doc.registerFont("bold", bold)

    const left = doc.page.margins.left
    const bottom = () => doc.page.height - doc.page.margins.bottom
    const fullWidth = doc.page.width - doc.page.margins.left - doc.page.margins.right

    const table = (t: DocTable) => {
      const columns = t.columns
      const width = columns.reduce((w, c) => w + c.width, 0)
      const rule = () => doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.5).stroke()
      const labels = columns.map((c) => c.label)
      const head = () => {
        line(labels, "bold", 6.5)
        rule()
      }
      const line = (cells: ReadonlyArray<string>, font: "regular" | "bold", size = 8) => {
        doc.font(font).fontSize(size)
        // A figure is never broken over two lines: one too wide for its column is set smaller.
        const sizes = cells.map((c, i) => {
          if (columns[i].align !== "right" || cells === labels) return size
          const wide = doc.widthOfString(c)
          return wide <= columns[i].width - 8 ? size : Math.max(5, size * (columns[i].width - 8) / wide)
        })
        const height = Math.max(...cells.map((c, i) => doc.fontSize(sizes[i]).heightOfString(c, { width: columns[i].width - 8 }))) + 4
        doc.fontSize(size)
        if (doc.y + height > bottom()) {
          doc.addPage()
          if (cells !== labels) head()
          doc.font(font).fontSize(size)
        }
        const y = doc.y
        let x = left
        cells.forEach((c, i) => {
          doc.fontSize(sizes[i]).text(c, x + 4, y + 2 + (size - sizes[i]) / 2, { width: columns[i].width - 8, align: columns[i].align })
          x += columns[i].width
        })
        doc.fontSize(size)
        doc.x = left
        doc.y = y + height
      }
      head()
      t.rows.forEach((r, index) => {
        if (r.kind === "group" || r.kind === "note") {
          // A user's name (bold), or a note under the row before (an adjustment's rate and reason), across the table.
          const font = r.kind === "group" ? "bold" : "regular"
          const indent = r.kind === "note" ? 24 : 0
          doc.font(font).fontSize(8)
          const h = doc.heightOfString(r.cells[0], { width: width - 8 - indent }) + 4
          // A user's name is not left alone at a page's foot: it goes on with its first line and subtotal.
          if (doc.y + (r.kind === "group" ? 3 * h + 8 : h) > bottom()) {
            doc.addPage()
            head()
            doc.font(font).fontSize(8)
          }
          const y = doc.y
          doc.text(r.cells[0], left + 4 + indent, y + 2, { width: width - 8 - indent })
          doc.x = left
          doc.y = y + h
          return
        }
        // A line and the note under it (an adjustment's rate and reason) stay on one page.
        if (t.rows[index + 1]?.kind === "note" && doc.y + 36 > bottom()) {
          doc.addPage()
          head()
        }
        if (r.kind === "total") rule()
        line(r.cells, r.kind === "line" ? "regular" : "bold")
        if (r.kind === "subtotal") doc.moveDown(0.3)
      })
      doc.moveDown(0.8)
    }
    const heading = (text: string) => {
      // A heading goes on with its table's head and first rows, never alone at a page's foot.
      if (doc.y + 90 > bottom()) doc.addPage()
      doc.font("bold").fontSize(11).text(text, left)
      doc.moveDown(0.3)
    }

    doc.font("bold").fontSize(16).text(d.title, left)
    doc.moveDown(0.3)
    for (const f of d.facts) {
      doc.font("bold").fontSize(9).text(`${f.label}: `, left, doc.y, { continued: true, width: fullWidth })
      doc.font("regular").text(f.value)
    }
    doc.moveDown()
    doc.font("bold").fontSize(13).text(`${d.totalPln}   ·   ${d.totalUsd}`, left)
    doc.moveDown()

    for (const section of d.sections) {
      heading(section.heading)
      if (section.table !== undefined) table(section.table)
      for (const p of section.paragraphs ?? []) {
        doc.font("regular").fontSize(9).text(p, left, doc.y, { width: fullWidth })
        doc.moveDown(0.4)
      }
    }
    // Every page's foot: the document and its page number ("strona 2 z 3" / "page 2 of 3").
    const pages = doc.bufferedPageRange()
    for (let i = 0; i < pages.count; i++) {
      doc.switchToPage(pages.start + i)
      const footY = doc.page.height - doc.page.margins.bottom + 12
      const keep = doc.page.margins.bottom
      doc.page.margins.bottom = 0
      doc.font("regular").fontSize(7).fillColor("#555555").text(
        `${d.title} · ${d.lang === "pl" ? `strona ${i + 1} z ${pages.count}` : `page ${i + 1} of ${pages.count}`}`,
        left,
        footY,
        { width: fullWidth, align: "right", lineBreak: false }
      )
      doc.page.margins.bottom = keep
      doc.fillColor("black")
    }
    doc.end()
  })
}
