// mai-usage: the printable statement of a month (the same figures as its JSON, CSV and PDF).
// Loaded after dom.js and tables.js.
"use strict"

;(() => {
  const root = document.getElementById("statement")
  const month = new URLSearchParams(location.search).get("month") ?? ""
  const node = window.MaiDom.el
  const table = window.MaiTables.plainTable

  const render = (s) => {
    document.title = `Statement ${s.month} — ${s.clientOrgId}`
    const status = s.closing === null ? "open" : `closed at ${s.closing.closedAt} by ${s.closing.closedBy}`
    root.replaceChildren(
      node("h1", { text: `Statement ${s.month}` }),
      node("dl", { class: "run" },
        node("dt", { text: "Client organisation" }), node("dd", { text: s.clientOrgId }),
        node("dt", { text: "Period" }), node("dd", { text: `${s.from} to ${s.to}` }),
        node("dt", { text: "Status" }), node("dd", { id: "statement-status", text: status }),
        s.closing === null ? null : node("dt", { text: "Statement CSV SHA-256" }),
        s.closing === null ? null : node("dd", { text: s.closing.statementSha256 }),
        node("dt", { text: "Generated at" }), node("dd", { text: s.generatedAt })),
      node("h2", { text: "Usage per user and model" }),
      table("statement-lines", [["User"], ["Model"], ["Requests", true], ["Tokens", true], ["USD", true], ["Markup", true], ["PLN", true]],
        s.lines.map((l) => [[l.user], [l.model], [String(l.requests), true], [String(l.totalTokens), true], [l.costUsd, true], [l.markup, true], [l.costPln, true]]),
        [["Lines total"], [""], [String(s.linesTotals.requests), true], [String(s.linesTotals.totalTokens), true], [s.linesTotals.costUsd, true], ["", true], [s.linesTotals.costPln, true]]),
      node("h2", { text: "Adjustments for earlier months" }),
      s.adjustments.length === 0
        ? node("p", { text: "None." })
        : table("statement-adjustments", [["Usage day"], ["User"], ["Model"], ["Requests", true], ["USD", true], ["Markup", true], ["Rate (table)"], ["PLN", true]],
          s.adjustments.map((a) => [[a.originalDate], [a.user], [a.model], [String(a.requests), true], [a.costUsd, true], [a.markup, true], [`${a.rate} (${a.rateTable})`], [a.costPln, true]]),
          [["Adjustments total"], [""], [""], [String(s.adjustmentsTotals.requests), true], [s.adjustmentsTotals.costUsd, true], ["", true], [""], [s.adjustmentsTotals.costPln, true]]),
      node("h2", { text: "NBP tables used (table A, USD mid rate)" }),
      table("statement-rates", [["Usage day"], ["Table number"], ["Table date"], ["Rate", true]],
        s.rates.map((r) => [[r.usageDate], [r.rateTable], [r.rateDate], [r.rate, true]])),
      node("h2", { text: "Markup" }),
      table("statement-markups", [["Markup", true], ["Days", true], ["From"], ["To"]],
        s.markups.map((m) => [[m.markup, true], [String(m.days), true], [m.firstDay], [m.lastDay]])),
      node("h2", { text: "Totals (lines plus adjustments)" }),
      node("p", { class: "statement-total", id: "statement-total-pln", text: `PLN ${s.totals.costPln}` }),
      node("p", { class: "statement-total", id: "statement-total-usd", text: `USD ${s.totals.costUsd}` }),
      node("p", { class: "no-print" },
        node("a", { class: "button", href: `/api/v1/statements/${encodeURIComponent(s.month)}?format=pdf`, text: "PDF" }),
        node("a", { class: "button", href: `/api/v1/statements/${encodeURIComponent(s.month)}?format=csv`, text: "CSV" }),
        node("a", { class: "button", href: `/?month=${encodeURIComponent(s.month)}`, text: "Back to the dashboard" }))
    )
  }

  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    root.replaceChildren(node("p", { class: "alert error", role: "alert", text: "Pick a month: /statement?month=YYYY-MM" }))
    return
  }
  fetch(`/api/v1/statements/${encodeURIComponent(month)}`, { credentials: "same-origin", headers: { accept: "application/json" } })
    .then(async (res) => {
      if (res.status === 401) {
        root.replaceChildren(node("p", { class: "alert error", role: "alert" }, "Your session has ended. ", node("a", { href: "/", text: "Log in" })))
        return
      }
      const body = await res.json().catch(() => null)
      if (!res.ok) throw new Error((body && body.message) || `HTTP ${res.status}`)
      render(body)
    })
    .catch((e) => root.replaceChildren(node("p", { class: "alert error", role: "alert", text: `The statement could not be loaded: ${e.message}` })))
})()
