// mai-usage dashboard: budgets and alerts — each budget's spend this month against its PLN amount,
// the thresholds reached, a form to set one and a button to remove one (the admin API, same origin,
// the session cookie), and the latest alerts with every delivery attempt (sent, or failed and why).
// Loaded after locale.js, dom.js and api.js; labels in labels-budgets.json.
"use strict"
;(() => {
  const { t, formatPln, formatDecimal, formatZoned } = window.MaiLocale
  const { el, breakable } = window.MaiDom
  const { getJson, showError } = window.MaiApi
  const body = document.getElementById("budgets-body")
  const alertsBody = document.getElementById("alerts-body")
  const form = document.getElementById("budget-form")
  if (body === null || alertsBody === null || form === null) return
  const timeZone = document.body.dataset.timeZone
  const BASE = "/api/v1/admin/budgets"

  const send = async (method, path, payload) => {
    const res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { accept: "application/json", ...(payload ? { "content-type": "application/json" } : {}) },
      body: payload ? JSON.stringify(payload) : undefined
    })
    const json = await res.json().catch(() => null)
    if (!res.ok) throw new Error(json && json.error ? json.error : `HTTP ${res.status}`)
    return json
  }

  const who = (b) =>
    b.scope === "client" ? t("budgets.client") : `${t(b.scope === "group" ? "budgets.groupScope" : "budgets.userScope")}: ${b.name ?? b.subject}${b.email && b.email !== b.subject ? ` (${b.email})` : b.name && b.name !== b.subject ? ` (${b.subject})` : ""}`

  const th = (key, num) => el("th", { scope: "col", class: num ? "num" : null, text: t(key) })

  const renderStatus = (e) => {
    if (e.budgets.length === 0) {
      body.replaceChildren(el("p", { class: "alert empty", text: t("budgets.none") }))
      return
    }
    body.replaceChildren(
      el("div", { class: "scroll" }, el("table", { id: "budgets-table" },
        el("thead", {}, el("tr", {}, th("budgets.subject"), th("budgets.amount", true), th("budgets.spent", true), th("budgets.percent", true), th("budgets.reached"), el("th", {}))),
        el("tbody", {}, ...e.budgets.map((s) =>
          el("tr", { class: s.reached.length > 0 && s.reached[s.reached.length - 1] >= 100 ? "over" : null },
            el("td", { "data-label": t("budgets.subject") }, ...breakable(who(s.budget))),
            el("td", { class: "num", "data-label": t("budgets.amount"), text: formatPln(s.budget.amountPln) }),
            el("td", { class: "num", "data-label": t("budgets.spent"), text: s.spendPln === null ? "—" : formatPln(s.spendPln) }),
            el("td", { class: "num", "data-label": t("budgets.percent"), text: s.percent === null ? "—" : `${formatDecimal(s.percent)}\u00a0%` }),
            el("td", { "data-label": t("budgets.reached"), text: s.note ?? (s.reached.map((x) => `${x}\u00a0%`).join(", ") || "—") }),
            el("td", {}, el("button", {
              type: "button",
              class: "link",
              text: t("budgets.remove"),
              onclick: async () => {
                await send("DELETE", `${BASE}?scope=${s.budget.scope}&subject=${encodeURIComponent(s.budget.subject)}`).catch((err) => showError(body, err))
                load()
              }
            }))
          )
        ))
      )),
      el("p", { class: "small", text: t("budgets.asOf", { at: formatZoned(e.asOf, timeZone) }) + (e.unpriced ? ` ${e.unpriced}` : "") })
    )
  }

  const renderAlerts = (a) => {
    const channels = el("p", { class: "small", text: a.channels.length === 0 ? t("budgets.noChannels") : t("budgets.channels", { channels: a.channels.join(", ") }) })
    if (a.alerts.length === 0) {
      alertsBody.replaceChildren(channels, el("p", { class: "alert empty", text: t("budgets.noAlerts") }))
      return
    }
    const delivery = (x) =>
      x.attempts.length === 0 ? "—" : el("ul", { class: "attempts" }, ...x.attempts.map((at) =>
        el("li", { class: at.status }, `${at.channel} — ${t("budgets.attempt", { n: at.attempt })}: ${t(`budgets.${at.status}`)}${at.error ? ` (${at.error})` : ""}`)
      ))
    alertsBody.replaceChildren(
      channels,
      el("div", { class: "scroll" }, el("table", { id: "alerts-table" },
        el("thead", {}, el("tr", {}, th("budgets.when"), th("budgets.alert"), th("budgets.delivery"))),
        el("tbody", {}, ...a.alerts.slice(0, 20).map((x) =>
          el("tr", {},
            el("td", { "data-label": t("budgets.when"), text: formatZoned(x.at, timeZone) }),
            el("td", { "data-label": t("budgets.alert") }, ...breakable(x.text)),
            el("td", { "data-label": t("budgets.delivery") }, delivery(x)))
        ))
      )),
      ...(a.limitChanges.length === 0 ? [] : [
        el("h3", { text: t("budgets.limits") }),
        el("ul", {}, ...a.limitChanges.slice(0, 20).map((c) =>
          el("li", { text: `${formatZoned(c.at, timeZone)}: ${c.keyHash.slice(0, 12)}… → ${c.limitUsd === null ? t("budgets.lifted") : `$${c.limitUsd}`} (${c.reason}; ${t(`budgets.${c.status}`)}${c.error ? `: ${c.error}` : ""})` })
        ))
      ])
    )
  }

  const load = async () => {
    try {
      const [status, alerts] = await Promise.all([getJson(`${BASE}/status`), getJson(`${BASE}/alerts?limit=20`)])
      renderStatus(status)
      renderAlerts(alerts)
    } catch (e) {
      showError(body, e, load)
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault()
    const data = new FormData(form)
    const status = document.getElementById("budget-form-status")
    const thresholds = String(data.get("thresholds") ?? "").split(/[,;\s]+/).filter((x) => x !== "").map(Number)
    try {
      await send("PUT", BASE, {
        scope: data.get("scope"),
        subject: data.get("scope") === "client" ? "" : String(data.get("subject") ?? ""),
        amountPln: String(data.get("amountPln") ?? ""),
        ...(thresholds.length > 0 ? { thresholds } : {})
      })
      status.textContent = t("budgets.saved")
      status.className = "small"
      load()
    } catch (e) {
      status.textContent = e.message
      status.className = "small error"
    }
  })

  load()
})()
