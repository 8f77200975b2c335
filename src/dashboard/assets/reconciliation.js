// mai-usage dashboard: the check against OpenRouter's own records for the chosen month (per UTC day:
// ok, missing n requests and $x, unavailable; with the last check time) and the key drift beside
// "today so far". It follows the month the page shows (the "mai:summary" event of dashboard.js).
// Its messages speak to the client's admin: what a result means and whom to tell.
// Loaded after locale.js, dom.js and api.js; every label is in labels.json (Polish by default).
"use strict"
;(() => {
  const { lang, t, formatCount, formatUsd, formatUsdExact, formatZoned, formatDay, monthName } = window.MaiLocale
  const { el } = window.MaiDom
  const { getJson, showError } = window.MaiApi
  const timeZone = document.body.dataset.timeZone
  const pluralRules = new Intl.PluralRules(lang === "en" ? "en-GB" : "pl-PL")
  /** "1 request", "2 zapytania": `key` names the forms in labels.json (`<key>.one`, `.few`, …). */
  const plural = (n, key) => `${formatCount(n)} ${t(`${key}.${pluralRules.select(Number(n))}`)}`
  // USD as everywhere on the page: to the cent, the exact amount on hover (the badge's title).
  const usd = formatUsd
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

  const lastDayOf = (month) => {
    const [y, m] = month.split("-").map(Number)
    return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`
  }
  const heading = document.getElementById("reconciliation-h")
  let shown = 0

  /** The chosen month's UTC days, as OpenRouter's records and the ledger compare them. */
  const loadReconciliation = async (month) => {
    const target = document.getElementById("reconciliation-body")
    if (target === null) return
    const ticket = ++shown
    if (heading !== null) heading.textContent = t("rec.headingMonth", { month: monthName(month) })
    try {
      const r = await getJson(`/api/v1/reconciliation?from=${month}-01&to=${lastDayOf(month)}`)
      if (ticket !== shown) return // another month was chosen meanwhile
      if (!r.configured && r.lastCheckAt === null) {
        target.replaceChildren(el("p", {
          class: "alert empty",
          text: t("rec.notSetUp")
        }))
        return
      }
      const checked = r.days.filter((d) => d.status !== "unchecked")
      const bad = r.days.filter((d) => d.status === "missing" || d.status === "extra")
      const table = el("table", { id: "reconciliation-table" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("rec.colDay") }), el("th", { scope: "col", text: t("rec.colResult") }), el("th", { scope: "col", text: t("rec.colChecked") }))),
        el("tbody", {}, ...checked.map((d) =>
          el("tr", { class: `recon-${d.status}`, "data-date": d.date, "data-status": d.status },
            el("td", { class: "date", text: formatDay(d.date) }),
            el("td", {},
              el("span", { class: `badge recon-${d.status}`, title: d.status === "missing" ? formatUsdExact(d.missingUsd) : undefined, text: resultText(d) }),
              detail(d)),
            el("td", { text: when(d.checkedAt) })
          )
        ))
      )
      target.replaceChildren(
        el("p", {
          id: "reconciliation-summary",
          "data-month": month,
          class: bad.length > 0 ? "alert error" : "small",
          text: bad.length > 0
            ? t("rec.differ", { days: plural(bad.length, "rec.days") })
            : checked.length === 0
            ? t("rec.noneChecked", { month: monthName(month) })
            : t("rec.allOk", { month: monthName(month) })
        }),
        el("p", { class: "small", id: "reconciliation-last-check", text: t("rec.lastCheck", { at: when(r.lastCheckAt) }) }),
        checked.length === 0 ? null : el("div", { class: "scroll" }, table)
      )
    } catch (error) {
      if (ticket === shown) showError(target, error, () => loadReconciliation(month))
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
        day: formatDay(k.utcDay),
        at: when(k.takenAt),
        openRouter: usd(k.openRouterUsd),
        ledger: usd(k.ledgerUsd),
        drift: k.driftUsd.startsWith("-") ? "-" + usd(k.driftUsd.slice(1)) : usd(k.driftUsd)
      })
    } catch {
      target.textContent = ""
    }
  }

  document.addEventListener("mai:summary", (e) => loadReconciliation(e.detail.month))
  loadDrift()
})()
