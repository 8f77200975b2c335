// mai-usage dashboard: the check against OpenRouter's own records (per UTC day: ok, missing n
// requests and $x, unavailable; with the last check time) and the key drift beside "today so far".
// Loaded after locale.js, dom.js and api.js.
"use strict"
;(() => {
  const { formatCount, formatUsdExact, formatZoned } = window.MaiLocale
  const { el } = window.MaiDom
  const { getJson, showError } = window.MaiApi
  const timeZone = document.body.dataset.timeZone
  const plural = (n, one, many) => `${formatCount(n)} ${n === 1 ? one : many}`
  const usd = formatUsdExact
  const when = (iso) => formatZoned(iso, timeZone)

  const resultText = (d) => {
    switch (d.status) {
      case "ok":
        return "ok"
      case "missing":
        return `missing ${plural(d.missingRequests, "request", "requests")}, ${usd(d.missingUsd)}`
      case "extra":
        return "extra: the ledger has more than OpenRouter counts"
      case "unavailable":
        return `unavailable${d.error ? `: ${d.error}` : ""}`
      default:
        return "not checked yet"
    }
  }

  const detail = (d) => {
    const differing = d.models.filter((m) => m.status !== "ok")
    if (differing.length === 0) return null
    return el("ul", { class: "small" }, ...differing.map((m) =>
      el("li", {
        text: m.status === "missing"
          ? `${m.model}: missing ${plural(m.missingRequests, "request", "requests")}, ${usd(m.missingUsd)} (OpenRouter ${m.openRouterRequests}, ledger ${m.ledgerRequests})`
          : `${m.model}: extra (OpenRouter ${m.openRouterRequests}, ledger ${m.ledgerRequests})`
      })
    ))
  }

  const loadReconciliation = async () => {
    const target = document.getElementById("reconciliation-body")
    if (target === null) return
    try {
      const r = await getJson("/api/v1/reconciliation")
      if (!r.configured && r.lastCheckAt === null) {
        target.replaceChildren(el("p", {
          class: "alert empty",
          text: "Not set up: with OPENROUTER_MANAGEMENT_KEY set, every completed UTC day is compared with OpenRouter's activity for the client's key."
        }))
        return
      }
      const bad = r.days.filter((d) => d.status === "missing" || d.status === "extra")
      const table = el("table", { id: "reconciliation-table" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Day (UTC)" }), el("th", { scope: "col", text: "Result" }), el("th", { scope: "col", text: "Checked" }))),
        el("tbody", {}, ...r.days.filter((d) => d.status !== "unchecked").map((d) =>
          el("tr", { class: `recon-${d.status}`, "data-date": d.date, "data-status": d.status },
            el("td", { text: d.date }),
            el("td", {}, el("span", { class: `badge recon-${d.status}`, text: resultText(d) }), detail(d)),
            el("td", { text: when(d.checkedAt) })
          )
        ))
      )
      target.replaceChildren(
        el("p", {
          id: "reconciliation-summary",
          class: bad.length > 0 ? "alert error" : "small",
          text: bad.length > 0
            ? `${plural(bad.length, "day differs", "days differ")} from OpenRouter's records: see docs/openrouter.md, "A day is missing".`
            : "Every checked day matches OpenRouter's records."
        }),
        el("p", { class: "small", id: "reconciliation-last-check", text: `Last check: ${when(r.lastCheckAt)}` }),
        el("div", { class: "scroll" }, table)
      )
    } catch (error) {
      showError(target, error, loadReconciliation)
    }
  }

  const loadDrift = async () => {
    const target = document.getElementById("today-drift")
    if (target === null) return
    try {
      const today = await getJson("/api/v1/usage/today")
      const k = today.keyDrift
      if (k === null || k === undefined) {
        target.textContent = ""
        return
      }
      target.textContent = `OpenRouter's count for the key, UTC day ${k.utcDay} (as of ${when(k.takenAt)}): ${usd(k.openRouterUsd)}; ` +
        `the ledger: ${usd(k.ledgerUsd)}; drift ${k.driftUsd.startsWith("-") ? "-" + usd(k.driftUsd.slice(1)) : usd(k.driftUsd)}.`
    } catch {
      target.textContent = ""
    }
  }

  loadReconciliation()
  loadDrift()
})()
