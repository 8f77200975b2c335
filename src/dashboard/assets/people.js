// mai-usage dashboard: the month's people and groups — each user's name and e-mail from Open WebUI's
// directory beside the id, and the cost per group (a person in two groups counts in both, and the
// card says so). Follows the month the report shows (the "mai:people" event of dashboard.js).
// Loaded after locale.js, dom.js and api.js; labels in labels-budgets.json.
"use strict"
;(() => {
  const { t, formatCount, formatPln } = window.MaiLocale
  const { el, breakable } = window.MaiDom
  // Polish Excel's dialect and Polish headers on the Polish page, like every other CSV button.
  const csvSuffix = window.MaiLocale.lang === "pl" ? "&dialect=excel-pl&lang=pl" : ""
  const { getJson, showError } = window.MaiApi
  const target = document.getElementById("people-body")
  if (target === null) return

  const th = (key, num) => el("th", { scope: "col", class: num ? "num" : null, text: t(key) })
  const td = (text, num, label) => el("td", { class: num ? "num" : null, "data-label": label ? t(label) : null }, ...(num ? [text] : breakable(text)))

  const render = (r) => {
    const parts = []
    if (r.directory.status !== "ok") {
      parts.push(el("p", {
        class: r.directory.status === "degraded" ? "alert error" : "alert empty",
        id: "people-directory",
        text: r.directory.status === "degraded" ? t("people.degraded", { warning: r.directory.warning ?? "" }) : t(`people.${r.directory.status}`)
      }))
    }
    if (r.users.length === 0) {
      parts.push(el("p", { class: "alert empty", text: t("people.none") }))
      target.replaceChildren(...parts)
      return
    }
    parts.push(el("div", { class: "scroll" }, el("table", { id: "people-table" },
      el("thead", {}, el("tr", {}, th("people.user"), th("people.email"), th("people.id"), th("people.groups"), th("people.requests", true), th("people.pln", true))),
      el("tbody", {}, ...r.users.map((u) =>
        el("tr", {},
          td(u.name ?? "—", false, "people.user"),
          td(u.email ?? "—", false, "people.email"),
          td(u.user, false, "people.id"),
          td(u.groups || "—", false, "people.groups"),
          td(formatCount(u.requests), true, "people.requests"),
          td(formatPln(u.costPln), true, "people.pln"))
      ))
    )))
    if (r.groups.length > 0) {
      parts.push(el("h3", { text: t("people.perGroup") }))
      parts.push(el("div", { class: "scroll" }, el("table", { id: "groups-table" },
        el("thead", {}, el("tr", {}, th("people.group"), th("people.members", true), th("people.requests", true), th("people.pln", true))),
        el("tbody", {},
          ...[...r.groups.map((g) => ({ ...g, cls: null })), { ...r.outsideGroups, group: t("people.outside"), cls: "outside" }].map((g) =>
            el("tr", { class: g.cls },
              td(g.group, false, "people.group"),
              td(formatCount(g.users), true, "people.members"),
              td(formatCount(g.requests), true, "people.requests"),
              td(formatPln(g.costPln), true, "people.pln"))
          )
        )
      )))
      parts.push(el("p", { class: "small", id: "people-two-groups", text: t("people.twoGroups") }))
    }
    const csv = (list, key) => el("a", { href: `/api/v1/people?month=${encodeURIComponent(r.month)}&format=csv&list=${list}${csvSuffix}`, download: "", text: t(key) })
    parts.push(el("p", { class: "downloads" }, csv("users", "people.csvUsers"), " ", ...(r.groups.length > 0 ? [csv("groups", "people.csvGroups")] : [])))
    target.replaceChildren(...parts)
  }

  const load = async (month) => {
    try {
      render(await getJson(`/api/v1/people?month=${encodeURIComponent(month)}`))
    } catch (e) {
      showError(target, e, () => load(month))
    }
  }

  // The report dashboard.js read for the users table; read here only when that failed (to show why).
  document.addEventListener("mai:people", (e) => (e.detail.report === null ? load(e.detail.month) : render(e.detail.report)))
})()
