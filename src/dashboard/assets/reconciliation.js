// mai-usage dashboard: the check against OpenRouter's own records (per UTC day: ok, missing n
// requests and $x, unavailable; with the last check time) and the key drift beside "today so far".
// Loaded after locale.js, dom.js and api.js; every label is in labels.json (Polish by default).
"use strict"
;(() => {
  const { lang, t, formatCount, formatUsdExact, formatZoned } = window.MaiLocale
  const { el } = window.MaiDom
  const { getJson, showError } = window.MaiApi
  const timeZone = document.body.dataset.timeZone
  const pluralRules = new Intl.PluralRules(lang === "en" ? "en-GB" : "pl-PL")
  /** "1 request", "2 zapytania": `key` names the forms in labels.json (`<key>.one`, `.few`, …). */
  const plural = (n, key) => `${formatCount(n)} ${t(`${key}.${pluralRules.select(Number(n))}`)}`
  const usd = formatUsdExact
  const when = (iso) => formatZoned(iso, timeZone)

  const resultText = (d) => {
    switch (d.status) {
      case "ok":
        return t("rec.ok")
      case "missing":
        return t("rec.missing", { requests: plural(d.missingRequests, "rec.requests"), usd: usd(d.missingUsd) })
      case "extra":
        return t("rec.extra")
      case "unavailable":
        return `${t("rec.unavailable")}${d.error ? `: ${d.error}` : ""}`
      default:
        return t("rec.unchecked")
    }
  }

  const detail = (d) => {
    const differing = d.models.filter((m) => m.status !== "ok")
    if (differing.length === 0) return null
    return el("ul", { class: "small" }, ...differing.map((m) =>
      el("li", {
        text: t(m.status === "missing" ? "rec.modelMissing" : "rec.modelExtra", {
          model: m.model,
          requests: m.status === "missing" ? plural(m.missingRequests, "rec.requests") : "",
          usd: m.status === "missing" ? usd(m.missingUsd) : "",
          openRouter: formatCount(m.openRouterRequests),
          ledger: formatCount(m.ledgerRequests)
        })
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
          text: t("rec.notSetUp")
        }))
        return
      }
      const bad = r.days.filter((d) => d.status === "missing" || d.status === "extra")
      const table = el("table", { id: "reconciliation-table" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("rec.colDay") }), el("th", { scope: "col", text: t("rec.colResult") }), el("th", { scope: "col", text: t("rec.colChecked") }))),
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
            ? t("rec.differ", { days: plural(bad.length, "rec.days") })
            : t("rec.allOk")
        }),
        el("p", { class: "small", id: "reconciliation-last-check", text: t("rec.lastCheck", { at: when(r.lastCheckAt) }) }),
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
      target.textContent = t("rec.drift", {
        day: k.utcDay,
        at: when(k.takenAt),
        openRouter: usd(k.openRouterUsd),
        ledger: usd(k.ledgerUsd),
        drift: k.driftUsd.startsWith("-") ? "-" + usd(k.driftUsd.slice(1)) : usd(k.driftUsd)
      })
    } catch {
      target.textContent = ""
    }
  }

  loadReconciliation()
  loadDrift()
})()
