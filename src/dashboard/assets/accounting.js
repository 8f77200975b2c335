// mai-usage dashboard: the accounting panel. The month's open/closed state and closing record, the
// "Close month" action (with a confirmation dialog), adjustments for earlier months, and per day
// whether its figures were corrected and when. It draws from the summary the main script loads
// (the "mai:summary" event), so both always show the same month. Loaded after dom.js and tables.js.
"use strict"

;(() => {
  const acc$ = (id) => document.getElementById(id)
  const NBSP = "\u00a0"
  const tz = document.body.dataset.timeZone

  const node = window.MaiDom.el
  const { plainTable } = window.MaiTables

  // Polish-style PLN and plain USD, from the API's decimal strings (never through floats).
  const group = (digits, sep) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep)
  const split = (text) => {
    const negative = text.startsWith("-")
    const [int, frac = ""] = (negative ? text.slice(1) : text).split(".")
    return { negative, int: int || "0", frac }
  }
  const pln = (t) => {
    const { negative, int, frac } = split(t)
    return `${negative ? "-" : ""}${group(int, NBSP)},${frac.padEnd(2, "0")}${NBSP}zł`
  }
  const usd = (t) => {
    const { negative, int, frac } = split(t)
    return `${negative ? "-" : ""}$${group(int, ",")}.${frac.padEnd(2, "0")}`
  }
  const when = (iso) => {
    if (!iso) return "—"
    const d = new Date(iso)
    return Number.isNaN(d.getTime())
      ? iso
      : `${d.toLocaleString("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "medium" })} (${tz})`
  }
  const lastDayOf = (month) => {
    const [y, m] = month.split("-").map(Number)
    return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`
  }
  const todayInZone = () => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date())

  // ---- the panel's place on the page ------------------------------------------------------------

  const panel = node("section", { class: "card", id: "accounting", "aria-labelledby": "accounting-h" })
  const adjustmentsCard = node("section", { class: "card", id: "adjustments", "aria-labelledby": "adjustments-h", hidden: true })
  const correctionsCard = node("section", { class: "card", id: "corrections", "aria-labelledby": "corrections-h", hidden: true })
  const report = acc$("report")
  if (report !== null) {
    const totals = report.querySelector("section")
    report.insertBefore(panel, totals === null ? report.firstChild : totals.nextSibling)
    panel.after(adjustmentsCard)
    const days = acc$("days-h")?.closest("section")
    ;(days ?? report.lastElementChild).after(correctionsCard)
  }

  // ---- close month: a confirmation dialog --------------------------------------------------------

  const dialog = node("dialog", { id: "close-dialog", "aria-labelledby": "close-dialog-h" })
  document.body.append(dialog)

  const post = async (path) => {
    let res
    try {
      res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { accept: "application/json" } })
    } catch {
      return { ok: false, message: "The API cannot be reached (network error); nothing was changed." }
    }
    let body = null
    try {
      body = await res.json()
    } catch {
      body = null
    }
    if (res.status === 401) return { ok: false, message: "Your session has ended; log in again. Nothing was changed." }
    if (!res.ok) return { ok: false, message: (body && body.message) || `HTTP ${res.status}; nothing was changed.` }
    return { ok: true, body }
  }

  const reloadMonth = (month) => {
    const url = new URL(location.href)
    url.searchParams.set("month", month)
    location.assign(url.toString())
  }

  const askToClose = (summary) => {
    const month = summary.month
    const reason = node("input", { id: "close-reason", name: "reason", type: "text", autocomplete: "off" })
    const error = node("p", { class: "alert error", role: "alert", id: "close-error", hidden: true })
    const confirm = node("button", { type: "submit", id: "close-confirm", text: `Close ${month}` })
    const cancel = node("button", { type: "button", class: "secondary", id: "close-cancel", text: "Cancel", onclick: () => dialog.close() })
    const form = node(
      "form",
      {
        method: "dialog",
        onsubmit: async (e) => {
          e.preventDefault()
          confirm.disabled = true
          const q = reason.value.trim() === "" ? "" : `?reason=${encodeURIComponent(reason.value.trim())}`
          const r = await post(`/api/v1/admin/months/${encodeURIComponent(month)}/close${q}`)
          confirm.disabled = false
          if (!r.ok) {
            error.textContent = r.message
            error.hidden = false
            return
          }
          dialog.close()
          reloadMonth(month)
        }
      },
      node("h2", { id: "close-dialog-h", text: `Close ${month}?` }),
      node("p", {
        text: `Closing freezes ${month}: its figures (total ${pln(summary.totals.costPln)}, ${usd(summary.totals.costUsd)}) ` +
          "will never change again. Late events or re-runs for its days become adjustments of the next open month. " +
          "Only the latest closed month can be reopened (from the CLI or the API, with a reason)."
      }),
      node("label", { for: "close-reason", text: "Reason (optional, kept in the audit log)" }),
      reason,
      error,
      node("p", { class: "dialog-buttons" }, confirm, cancel)
    )
    dialog.replaceChildren(form)
    dialog.showModal()
    reason.focus()
  }

  // ---- rendering -----------------------------------------------------------------------------------

  const table = (id, head, rows, foot) => node("div", { class: "scroll" }, plainTable(id, head, rows, foot))

  const render = (summary) => {
    const month = summary.month
    const state = summary.state
    const closing = state.closing
    const parts = [node("h2", { id: "accounting-h", text: `Accounting period ${month}` })]
    const status = node("p", { id: "month-state" })
    if (closing === null) {
      status.append(node("span", { class: "badge", id: "month-status", text: "Open" }), " Figures may still change with late events or re-runs.")
    } else {
      status.append(
        node("span", { class: "badge closed", id: "month-status", text: "Closed" }),
        ` at ${when(closing.closedAt)} by ${closing.closedBy}${closing.reason ? ` (${closing.reason})` : ""}. Its figures no longer change; later differences go to the next open month as adjustments.`
      )
    }
    parts.push(status)
    if (closing !== null) {
      const dl = node("dl", { class: "run", id: "closing-record" })
      const item = (label, value) => dl.append(node("dt", { text: label }), node("dd", { text: value }))
      item("Total when closed", `${pln(closing.costPln)} · ${usd(closing.costUsd)} · ${closing.requests} requests`)
      item("Statement CSV SHA-256", closing.statementSha256)
      parts.push(dl)
    }
    const actions = node("p", { class: "downloads" })
    actions.append(
      node("a", { class: "button", id: "statement-link", href: `/statement?month=${encodeURIComponent(month)}`, text: "Printable statement" }),
      node("a", { class: "button", href: `/api/v1/statements/${encodeURIComponent(month)}?format=pdf`, text: "Statement PDF" }),
      node("a", { class: "button", href: `/api/v1/statements/${encodeURIComponent(month)}?format=csv`, download: "", text: "Statement CSV" })
    )
    if (closing === null) {
      const over = lastDayOf(month) < todayInZone()
      actions.append(node("button", {
        type: "button",
        id: "close-month",
        text: "Close month",
        disabled: !over,
        title: over ? undefined : "Only a month whose days are all over can be closed",
        onclick: () => askToClose(summary)
      }))
    }
    parts.push(actions)
    panel.replaceChildren(...parts)

    // A month without usage of its own may still have adjustments: the main script's empty state says so.
    const empty = acc$("empty-state")
    if (empty !== null && summary.adjustments.length > 0) {
      empty.textContent = `No usage of ${month}'s own days is billed; the month has adjustments for earlier months (below), included in its total.`
    }

    if (summary.adjustments.length === 0) {
      adjustmentsCard.hidden = true
    } else {
      adjustmentsCard.hidden = false
      const t = summary.adjustmentsTotals
      adjustmentsCard.replaceChildren(
        node("h2", { id: "adjustments-h", text: "Adjustments for earlier months" }),
        node("p", { class: "small", text: `Differences found after their month was closed, priced at the original day's NBP rate and markup. The month's total (${pln(summary.totals.costPln)}) includes them.` }),
        table("adjustments-table", [["Usage day"], ["User"], ["Model"], ["Requests", true], ["USD", true], ["Rate", true], ["PLN", true], ["Reason"]],
          summary.adjustments.map((a) => [[a.originalDate], [a.user], [a.model], [String(a.requests), true], [usd(a.costUsd), true],
            [`${a.rate} (${a.rateTable}) ×${a.markup}`, true], [pln(a.costPln), true], [a.reason]]),
          [["Total"], [""], [""], [String(t.requests), true], [usd(t.costUsd), true], ["", true], [pln(t.costPln), true], [""]]),
        node("p", { class: "downloads" }, node("a", {
          class: "button",
          download: "",
          href: `/api/v1/usage/summary?month=${encodeURIComponent(month)}&format=csv&list=adjustments`,
          text: "Adjustments (CSV)"
        }))
      )
    }

    // Per day: corrected figures, and failed runs whose earlier figures stand.
    const billed = new Set(summary.days.map((d) => d.date))
    const notable = summary.dayHistory.filter((d) => d.corrected || d.lastRunStatus === "failed")
    if (notable.length === 0) {
      correctionsCard.hidden = true
    } else {
      correctionsCard.hidden = false
      correctionsCard.replaceChildren(
        node("h2", { id: "corrections-h", text: "Corrections per day" }),
        table("corrections-table", [["Day"], ["Figures"]], notable.map((d) => {
          const notes = []
          if (d.corrected) notes.push(`corrected at ${when(d.correctedAt)}`)
          if (d.lastRunStatus === "failed") {
            notes.push(billed.has(d.date) || d.corrected
              ? `the last run failed (${d.lastRunError ?? "error"}); the earlier figures stand`
              : `the last run failed (${d.lastRunError ?? "error"})`)
          }
          return [[d.date], [notes.join("; ")]]
        }))
      )
    }
  }

  document.addEventListener("mai:summary", (e) => render(e.detail))
})()
