// mai-usage: the printable statement of a month, in the page's language (Polish unless ?lang=en).
// It draws the statement's document (`?format=document&lang=…`): the very text the PDF draws, so the
// two never differ. Loaded after dom.js and tables.js (not locale.js: its labels are in the page).
"use strict"

;(() => {
  const root = document.getElementById("statement")
  const lang = document.documentElement.lang === "en" ? "en" : "pl"
  const labels = JSON.parse(document.getElementById("mai-statement-labels").textContent)
  const t = (key, vars = {}) => (labels[key] ?? key).replace(/\{(\w+)\}/g, (all, k) => vars[k] ?? all)
  const month = new URLSearchParams(location.search).get("month") ?? ""
  const node = window.MaiDom.el

  /** A table of the document: group and note rows span it; subtotals and totals are bold. */
  const docTable = (table) => {
    const width = table.columns.reduce((w, c) => w + c.width, 0)
    const span = table.columns.length
    const row = (r) => {
      if (r.kind === "group" || r.kind === "note") {
        return node("tr", { class: r.kind }, node("td", { colspan: String(span), text: r.cells[0] }))
      }
      return node("tr", { class: r.kind === "line" ? undefined : r.kind },
        ...r.cells.map((text, i) => node("td", { class: table.columns[i].align === "right" ? "num" : "name", text })))
    }
    return node("div", { class: "scroll" }, node("table", { id: table.id },
      // Widths through the CSSOM: the page's Content-Security-Policy refuses style attributes.
      node("colgroup", {}, ...table.columns.map((c) => {
        const col = node("col")
        col.style.width = `${(100 * c.width / width).toFixed(1)}%`
        return col
      })),
      node("thead", {}, node("tr", {}, ...table.columns.map((c) =>
        node("th", { scope: "col", class: c.align === "right" ? "num" : undefined, text: c.label })))),
      node("tbody", {}, ...table.rows.map(row))))
  }

  /** The heading; its month ("2025-11") is never broken at its hyphen on a narrow screen. */
  const title = (d) => {
    const at = d.title.lastIndexOf(d.month)
    if (at < 0) return node("h1", { text: d.title })
    return node("h1", {}, d.title.slice(0, at), node("span", { class: "month", text: d.month }), d.title.slice(at + d.month.length))
  }

  const render = (d) => {
    document.title = `${d.title} — mai-usage`
    const base = `/api/v1/statements/${encodeURIComponent(d.month)}`
    root.replaceChildren(
      title(d),
      node("dl", { class: "run", id: "statement-facts" },
        ...d.facts.flatMap((f) => [node("dt", { text: f.label }), node("dd", { id: `statement-${f.id}`, text: f.value })])),
      node("p", { class: "statement-total", id: "statement-total" },
        node("span", { id: "statement-total-pln", text: d.totalPln }), " · ", node("span", { id: "statement-total-usd", text: d.totalUsd })),
      ...d.sections.flatMap((s) => [
        node("h2", { id: `statement-${s.id}-h`, text: s.heading }),
        ...(s.table ? [docTable(s.table)] : []),
        ...(s.paragraphs ?? []).map((p) => node("p", { class: s.id === "rule" ? "rule" : undefined, text: p }))
      ]),
      node("p", { class: "no-print downloads" },
        node("a", { class: "button", id: "statement-pdf", href: `${base}?format=pdf&lang=${lang}`, text: t("st.pdf") }),
        // The Polish page gives the CSV for Polish Excel; the English one the plain CSV.
        node("a", {
          class: "button",
          id: "statement-csv",
          download: "",
          href: lang === "pl" ? `${base}?format=csv&lang=pl&dialect=excel-pl` : `${base}?format=csv&lang=en`,
          text: t("st.csv")
        }),
        node("button", { type: "button", id: "statement-print", text: t("st.print"), onclick: () => window.print() }),
        node("a", { class: "button", href: `/?month=${encodeURIComponent(d.month)}`, text: t("st.back") }))
    )
  }

  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    root.replaceChildren(node("p", { class: "alert error", role: "alert", text: t("st.pickMonth") }))
    return
  }
  fetch(`/api/v1/statements/${encodeURIComponent(month)}?format=document&lang=${lang}`, {
    credentials: "same-origin",
    headers: { accept: "application/json" }
  })
    .then(async (res) => {
      if (res.status === 401) {
        root.replaceChildren(node("p", { class: "alert error", role: "alert" }, t("st.sessionEnded"), node("a", { href: "/", text: t("st.logIn") })))
        return
      }
      const body = await res.json().catch(() => null)
      if (!res.ok) throw new Error((body && (body.error || body.message)) || `HTTP ${res.status}`)
      render(body)
    })
    .catch((e) => root.replaceChildren(node("p", { class: "alert error", role: "alert", text: t("st.failed", { error: e.message }) })))
})()
