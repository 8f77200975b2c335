// mai-usage dashboard: the accounting panel. The month's open/closed state and closing record, the
// "Close month" action (with a confirmation dialog), adjustments for earlier months, and per day
// whether its figures were corrected and when. It draws from the summary the main script loads
// (the "mai:summary" event), so both always show the same month. Loaded after locale.js, dom.js and
// tables.js; every label is in labels.json (Polish by default, English with ?lang=en).
"use strict"

;(() => {
  const acc$ = (id) => document.getElementById(id)
  const tz = document.body.dataset.timeZone

  const node = window.MaiDom.el
  const { plainTable } = window.MaiTables
  const { lang, t, formatCount, formatDecimal, formatPlnExact, formatUsd, formatUsdExact, formatZoned, formatDay } = window.MaiLocale

  // PLN exactly as the API gives it (to the grosz); USD as everywhere on the page: to the cent, the
  // exact amount on hover.
  const pln = formatPlnExact
  const usd = formatUsd
  const usdCell = (text) => [usd(text), true, formatUsdExact(text)]
  /**
   * An adjustment's reason in the page's language: the batch writes
   * "2025-10 was closed; run #12 (schedule) found different figures for 2025-10-26".
   */
  const reasonText = (reason) => {
    const m = /^(\d{4}-\d{2}) was closed; run #(\d+) \(([^)]*)\) found different figures for (\d{4}-\d{2}-\d{2})$/.exec(reason)
    if (m === null) return reason
    const trigger = t(`acc.trigger.${m[3]}`)
    return t("acc.reasonRerun", { month: m[1], run: m[2], trigger: trigger.startsWith("acc.") ? m[3] : trigger, day: formatDay(m[4]) })
  }
  const when = (iso) => formatZoned(iso, tz)
  // CSV for Polish Excel (with Polish headers) on the Polish page, the plain one on the English page.
  const csvLink = (href) => (lang === "pl" ? `${href}&dialect=excel-pl${/[?&]lang=/.test(href) ? "" : "&lang=pl"}` : href)
  const pluralRules = new Intl.PluralRules(lang === "en" ? "en-GB" : "pl-PL")
  const requestsText = (n) => `${formatCount(n)} ${t(`acc.requests.${pluralRules.select(Number(n))}`)}`
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

  const post = async (path, payload) => {
    let res
    try {
      res = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: payload === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
        body: payload === undefined ? undefined : JSON.stringify(payload)
      })
    } catch {
      return { ok: false, message: t("acc.unreachable") }
    }
    let body = null
    try {
      body = await res.json()
    } catch {
      body = null
    }
    if (res.status === 401) return { ok: false, message: t("acc.sessionEnded") }
    // The API answers every refusal as {"error": "one line"} (the reason, e.g. the days that block a close).
    if (!res.ok) return { ok: false, message: (body && (body.error || body.message)) || t("acc.httpError", { status: res.status }) }
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
    // Who closes: the name goes onto the statement beside "dashboard".
    const closer = node("input", { id: "close-by", name: "by", type: "text", autocomplete: "name", maxlength: "120" })
    // Reconciliation may refuse the close (days missing or never reconciled): the closer can accept
    // them, with a reason, and the acceptance goes onto the statement.
    const accept = node("input", { id: "close-accept", name: "acceptUnreconciled", type: "checkbox" })
    const error = node("p", { class: "alert error", role: "alert", id: "close-error", hidden: true })
    const confirm = node("button", { type: "submit", id: "close-confirm", text: t("acc.closeConfirm", { month }) })
    const cancel = node("button", { type: "button", class: "secondary", id: "close-cancel", text: t("acc.cancel"), onclick: () => dialog.close() })
    const form = node(
      "form",
      {
        method: "dialog",
        onsubmit: async (e) => {
          e.preventDefault()
          confirm.disabled = true
          const params = new URLSearchParams()
          if (reason.value.trim() !== "") params.set("reason", reason.value.trim())
          if (accept.checked) params.set("acceptUnreconciled", "true")
          const q = params.size === 0 ? "" : `?${params}`
          const by = closer.value.trim()
          const r = await post(`/api/v1/admin/months/${encodeURIComponent(month)}/close${q}`, by === "" ? undefined : { by })
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
      node("h2", { id: "close-dialog-h", text: t("acc.closeQuestion", { month }) }),
      node("p", {
        text: t("acc.closeExplain", { month, pln: pln(summary.totals.costPln), usd: usd(summary.totals.costUsd) })
      }),
      node("label", { for: "close-by", text: t("acc.closerName") }),
      closer,
      node("label", { for: "close-reason", text: t("acc.reason") }),
      reason,
      node("p", { class: "check" }, accept, node("label", { for: "close-accept", text: t("acc.acceptUnreconciled") })),
      error,
      node("p", { class: "dialog-buttons" }, confirm, cancel)
    )
    dialog.replaceChildren(form)
    dialog.showModal()
    closer.focus()
  }

  // ---- rendering -----------------------------------------------------------------------------------

  const table = (id, head, rows, foot) => node("div", { class: "scroll" }, plainTable(id, head, rows, foot))

  const render = (summary) => {
    const month = summary.month
    const state = summary.state
    const closing = state.closing
    const parts = [node("h2", { id: "accounting-h", text: t("acc.heading", { month }) })]
    const status = node("p", { id: "month-state" })
    if (closing === null) {
      status.append(node("span", { class: "badge", id: "month-status", text: t("acc.open") }), t("acc.openNote"))
    } else {
      status.append(
        node("span", { class: "badge closed", id: "month-status", text: t("acc.closed") }),
        t("acc.closedNote", {
          at: when(closing.closedAt),
          by: closing.closerName === undefined ? t(`acc.via.${closing.closedBy}`) : `${closing.closerName} (${t(`acc.via.${closing.closedBy}`)})`,
          reason: closing.reason ? ` (${closing.reason})` : ""
        })
      )
    }
    parts.push(status)
    if (closing !== null) {
      const dl = node("dl", { class: "run", id: "closing-record" })
      const item = (label, value) => dl.append(node("dt", { text: label }), node("dd", { text: value }))
      item(t("acc.totalClosed"), `${pln(closing.costPln)} · ${usd(closing.costUsd)} · ${requestsText(closing.requests)}`)
      item(t("acc.statementSha"), closing.statementSha256)
      if (closing.reconciliation !== undefined) item(t("acc.reconciliation"), closing.reconciliation)
      parts.push(dl)
    }
    const actions = node("p", { class: "downloads" })
    actions.append(
      node("a", { class: "button", id: "statement-link", href: `/statement?month=${encodeURIComponent(month)}`, text: t("acc.printable") }),
      node("a", { class: "button", id: "statement-pdf", href: `/api/v1/statements/${encodeURIComponent(month)}?format=pdf&lang=${lang}`, text: t("acc.statementPdf") }),
      node("a", { class: "button", id: "statement-csv", href: csvLink(`/api/v1/statements/${encodeURIComponent(month)}?format=csv&lang=${lang}`), download: "", text: t("acc.statementCsv") })
    )
    // A closed month's invoice draft for KSeF (FA(3) XML; nothing is sent anywhere).
    if (closing !== null) {
      actions.append(node("a", {
        class: "button",
        id: "invoice-draft",
        href: `/api/v1/invoices/${encodeURIComponent(month)}/fa3.xml`,
        download: `FA3_${month}.xml`,
        text: t("acc.invoiceDraft")
      }))
    }
    if (closing === null) {
      const over = lastDayOf(month) < todayInZone()
      actions.append(node("button", {
        type: "button",
        id: "close-month",
        text: t("acc.closeMonth"),
        disabled: !over,
        title: over ? undefined : t("acc.notOver"),
        onclick: () => askToClose(summary)
      }))
    }
    parts.push(actions)
    panel.replaceChildren(...parts)

    // A month without usage of its own may still have adjustments: the main script's empty state says so.
    const empty = acc$("empty-state")
    if (empty !== null && summary.adjustments.length > 0) {
      empty.textContent = t("acc.emptyWithAdjustments", { month })
    }

    if (summary.adjustments.length === 0) {
      adjustmentsCard.hidden = true
    } else {
      adjustmentsCard.hidden = false
      const sum = summary.adjustmentsTotals
      adjustmentsCard.replaceChildren(
        node("h2", { id: "adjustments-h", text: t("acc.adjustments") }),
        node("p", { class: "small", text: t("acc.adjustmentsNote", { pln: pln(summary.totals.costPln) }) }),
        table("adjustments-table", [[t("usageDay")], [t("colUser")], [t("colModel")], [t("colRequests"), true], ["USD", true], [t("colRate"), true], ["PLN", true], [t("acc.colReason")]],
          summary.adjustments.map((a) => [[formatDay(a.originalDate)], [a.user], [a.model], [formatCount(a.requests), true], usdCell(a.costUsd),
            [`${formatDecimal(a.rate)} (${a.rateTable}) ×${formatDecimal(a.markup)}`, true], [pln(a.costPln), true], [reasonText(a.reason)]]),
          [[t("total")], [""], [""], [formatCount(sum.requests), true], usdCell(sum.costUsd), ["", true], [pln(sum.costPln), true], [""]]),
        node("p", { class: "downloads" }, node("a", {
          class: "button",
          download: "",
          href: csvLink(`/api/v1/usage/summary?month=${encodeURIComponent(month)}&format=csv&list=adjustments`),
          text: t("acc.adjustmentsCsv")
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
        node("h2", { id: "corrections-h", text: t("acc.corrections") }),
        table("corrections-table", [[t("colDay")], [t("acc.colFigures")]], notable.map((d) => {
          const notes = []
          if (d.corrected) notes.push(t("acc.correctedAt", { at: when(d.correctedAt) }))
          if (d.lastRunStatus === "failed") {
            const error = d.lastRunError ?? t("acc.unknownError")
            notes.push(t(billed.has(d.date) || d.corrected ? "acc.lastRunFailedStand" : "acc.lastRunFailed", { error }))
          }
          return [[formatDay(d.date)], [notes.join("; ")]]
        }))
      )
    }
  }

  document.addEventListener("mai:summary", (e) => render(e.detail))
})()
