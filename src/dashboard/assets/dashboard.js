// mai-usage dashboard: the month (totals, chart, tables, CSV links, the last batch run, unbilled
// days) and today so far. Vanilla JS, no dependencies; loaded after the modules it uses:
// locale.js (formats, labels), dom.js, api.js (the JSON API), tables.js and chart.js. The panels
// (accounting.js, reconciliation.js) come after it.
"use strict"

const $ = (id) => document.getElementById(id)
const settings = document.body.dataset

// ---- formatting and labels: one locale for the whole page (assets/locale.js) -----------------

const { t, plural, formatCount, formatPln, formatUsd, formatUsdExact, formatDay, monthName, formatZoned, formatDecimal } =
  window.MaiLocale
const { el } = window.MaiDom
const { getJson, showError } = window.MaiApi
const { sortableTable } = window.MaiTables

const REQUESTS = { pl: { one: "zapytanie", few: "zapytania", many: "zapytań", other: "zapytania" }, en: { one: "request", other: "requests" } }

const shiftMonth = (month, by) => {
  const [y, m] = month.split("-").map(Number)
  const d = new Date(Date.UTC(y, m - 1 + by, 1))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`
}

const localTime = (iso) => formatZoned(iso, settings.timeZone)

const moneyColumns = [
  { key: "requests", label: t("colRequests"), type: "count", className: "hide-narrow" },
  { key: "totalTokens", label: t("colTokens"), type: "count", className: "hide-narrow" },
  { key: "costUsd", label: "USD", type: "decimal", format: formatUsd, title: formatUsdExact },
  { key: "costPln", label: "PLN", type: "decimal", format: formatPln }
]

// ---- the month -----------------------------------------------------------------------------------

const drawChart = window.MaiChart.costPerDay($("chart"))

const csvLink = (href, label) => el("a", { class: "button", href, download: "", text: label })
/** What the page's CSV links add: the Polish Excel dialect and Polish headers on the Polish page. */
const csvSuffix = window.MaiLocale.lang === "pl" ? "&dialect=excel-pl&lang=pl" : ""

const renderBatch = (summary) => {
  const target = $("batch-body")
  const run = summary.lastBatchRun
  if (run === null) {
    target.replaceChildren(el("p", {
      class: "alert empty",
      text: settings.batchEnabled === "true"
        ? t("noRunYet", { time: settings.batchTime, tz: settings.timeZone })
        : t("noRunScheduleOff")
    }))
    return
  }
  // A failed re-run of a day that was billed before changes nothing: its figures stand. Say so
  // instead of a red alarm; red is kept for a day that has no figures at all.
  const standing = run.status === "failed" ? summary.standingRun : null
  const statusClass = standing ? "status-stands" : `status-${run.status}`
  const dl = el("dl", { class: "run" })
  const item = (label, value) => dl.append(el("dt", { text: label }), el("dd", {}, value))
  item(t("status"), el("span", { class: statusClass, id: "batch-status", "data-status": run.status, text: t(`status.${run.status}`) }))
  item(t("usageDay"), formatDay(run.usageDate))
  item(t("trigger"), run.trigger)
  item(t("started"), localTime(run.startedAt))
  item(t("finished"), localTime(run.finishedAt))
  if (run.rowsWritten !== null) item(t("rowsWritten"), formatCount(run.rowsWritten))
  if (run.corrections !== null) item(t("corrections"), formatCount(run.corrections))
  if (run.rateTable !== null) item(t("nbpTable"), t("tableRate", { table: run.rateTable, rate: formatDecimal(run.rate) }))
  if (run.error) item(t("error"), run.error)
  const parts = [dl]
  const ok = summary.lastSuccessfulRun
  if (standing) {
    parts.push(el("p", { class: "alert stands", id: "batch-standing", text: t("standing", { day: formatDay(run.usageDate), id: standing.id, finished: localTime(standing.finishedAt) }) }))
  } else if (run.status === "failed") {
    parts.push(el("p", {
      class: "small",
      id: "batch-standing",
      text: ok === null
        ? t("noSuccess", { day: formatDay(run.usageDate) })
        : t("failedNoFigures", { day: formatDay(run.usageDate), okDay: formatDay(ok.usageDate), okAt: localTime(ok.finishedAt) })
    }))
  }
  target.replaceChildren(...parts)
}

/** Days with usage that no run billed: listed with the command that bills them. */
const renderUnbilled = (summary) => {
  const days = summary.unbilledDays ?? []
  const section = $("unbilled")
  section.hidden = days.length === 0
  if (days.length === 0) return
  const list = el("ul", { class: "unbilled" })
  for (const d of days) {
    list.append(el("li", {},
      el("strong", { text: formatDay(d.date) }), ": ",
      `${plural(d.requests, REQUESTS)}, `,
      el("span", { title: formatUsdExact(d.costUsd), text: formatUsd(d.costUsd) }),
      ` — ${d.withinCatchUp ? t("unbilledSoon") : t("unbilledOld")}`))
  }
  const commands = days.filter((d) => !d.withinCatchUp).map((d) => d.command)
  $("unbilled-body").replaceChildren(
    el("p", { text: t("unbilledIntro") }),
    list,
    ...(commands.length === 0 ? [] : [el("p", { class: "small", text: t("unbilledHow") }), el("pre", { id: "unbilled-commands", text: commands.join("\n") })])
  )
}

/**
 * A user's cell: the name and e-mail from Open WebUI's directory (the people report) beside the id
 * the usage carries; the id alone where the directory has none (or cannot be read).
 */
const userLabel = (people) => {
  const known = new Map((people?.users ?? []).filter((u) => u.name || u.email).map((u) => [u.user, u]))
  return (id) => {
    const p = known.get(id)
    if (p === undefined) return id
    const who = [p.name, p.email !== id ? p.email : null].filter(Boolean).join(" · ")
    return `${who} (${id})`
  }
}

const renderSummary = (summary, people) => {
  const month = summary.month
  $("month-name").textContent = monthName(month)
  $("total-pln").textContent = formatPln(summary.totals.costPln)
  $("total-usd").textContent = formatUsd(summary.totals.costUsd)
  $("total-usd").title = formatUsdExact(summary.totals.costUsd)
  $("total-requests").textContent = formatCount(summary.totals.requests)
  $("total-tokens").textContent = formatCount(summary.totals.totalTokens)
  drawChart(month, summary.days)
  // The month's total includes its adjustments for earlier months: they are a row of each table's
  // foot, so every total is the sum of the rows shown above it.
  const adjusted = (id) => summary.adjustments.length === 0
    ? []
    : [{ id: `${id}-adjustments`, label: t("adjustmentsRow", { n: formatCount(summary.adjustments.length) }), values: summary.adjustmentsTotals }]
  sortableTable($("users-table"), [{ key: "user", label: t("colUser"), type: "text", format: userLabel(people) }, ...moneyColumns], summary.users,
    { key: "costPln", direction: "descending" }, summary.totals, adjusted("users"))
  sortableTable($("models-table"), [{ key: "model", label: t("colModel"), type: "text" }, ...moneyColumns], summary.models,
    { key: "costPln", direction: "descending" }, summary.totals, adjusted("models"))
  sortableTable($("days-table"), [
    { key: "date", label: t("colDay"), type: "text", className: "date", format: formatDay },
    ...moneyColumns,
    { key: "rateTable", label: t("colTable"), type: "text", className: "date" },
    { key: "rateDate", label: t("colTableDate"), type: "text", className: "date", format: formatDay },
    { key: "rate", label: t("colRate"), type: "text", className: "num", format: formatDecimal }
  ], summary.days, { key: "date", direction: "ascending" }, summary.totals, adjusted("days"))
  // The Polish page gives CSV for Polish Excel (`;`, decimal commas, Polish headers); English the plain one.
  const q = `month=${encodeURIComponent(month)}&format=csv${csvSuffix}`
  $("downloads").replaceChildren(
    csvLink(`/api/v1/usage/summary?${q}&list=rows`, t("csvRows")),
    csvLink(`/api/v1/usage/summary?${q}&list=days`, t("csvDays")),
    csvLink(`/api/v1/usage/summary?${q}&list=users`, t("csvUsers")),
    csvLink(`/api/v1/usage/summary?${q}&list=models`, t("csvModels")),
    csvLink(`/api/v1/usage/summary?${q}&list=rates`, t("csvRates"))
  )
  renderBatch(summary)
  renderUnbilled(summary)
}

let current = 0
const loadMonth = async (month) => {
  const ticket = ++current
  const status = $("status")
  status.replaceChildren(el("p", { class: "small", text: t("loadingMonth", { month: monthName(month) }) }))
  try {
    const [summary, people] = await Promise.all([
      getJson(`/api/v1/usage/summary?month=${encodeURIComponent(month)}`),
      // names for the users table; without them the ids alone are shown
      getJson(`/api/v1/people?month=${encodeURIComponent(month)}`).catch(() => null)
    ])
    if (ticket !== current) return
    status.replaceChildren()
    renderSummary(summary, people)
    const empty = summary.days.length === 0
    $("report").hidden = false
    for (const id of ["chart-h", "users-h", "models-h", "days-h", "downloads-h"]) $(id).closest("section").hidden = empty
    if (empty) {
      status.replaceChildren(el("p", {
        class: "alert empty",
        id: "empty-state",
        text: summary.lastBatchRun === null
          ? t("emptyNoRun")
          : t("emptyMonth", { month: monthName(month) })
      }))
    }
    // Other panels (accounting) draw from the same summary; the people card from the same people
    // report as the users table (null when it could not be read: the card asks again and says why).
    document.dispatchEvent(new CustomEvent("mai:summary", { detail: summary }))
    document.dispatchEvent(new CustomEvent("mai:people", { detail: { month, report: people } }))
  } catch (error) {
    if (ticket !== current) return
    $("report").hidden = true
    showError(status, error, () => loadMonth(month))
    if (error.kind !== "unauthorized") showError($("batch-body"), error)
  }
}

// ---- today so far --------------------------------------------------------------------------------

const loadToday = async () => {
  const target = $("today-body")
  try {
    const today = await getJson("/api/v1/usage/today")
    const parts = []
    const line = el("p", { class: "today-line" })
    line.append(`${formatDay(today.date)}: `, el("strong", { id: "today-usd", title: formatUsdExact(today.totals.costUsd), text: formatUsd(today.totals.costUsd) }))
    if (today.rate !== null) {
      line.append(
        " ≈ ",
        el("strong", { id: "today-pln", text: formatPln(today.totals.costPln) }),
        t("todayAt", {
          table: today.rate.rateTable, date: formatDay(today.rate.rateDate), rate: formatDecimal(today.rate.rate),
          markup: formatDecimal(today.markup), stale: today.rate.stale ? t("todayStale") : ""
        })
      )
    } else {
      line.append(" ", el("span", { id: "today-no-pln", text: `· ${today.rateError ?? t("todayNoPln")}` }))
    }
    parts.push(line, el("p", {
      class: "small",
      text: t("todayCount", { requests: plural(today.totals.requests, REQUESTS) })
    }))
    if (today.rows.length > 0) {
      const table = el("table", { id: "today-table", class: "sortable" })
      sortableTable(table, [
        { key: "user", label: t("colUser"), type: "text" },
        { key: "model", label: t("colModel"), type: "text" },
        ...moneyColumns
      ], today.rows, { key: "costUsd", direction: "descending" }, null)
      parts.push(el("div", { class: "scroll" }, table))
      parts.push(el("p", { class: "downloads" }, csvLink(`/api/v1/usage/today?format=csv${csvSuffix}`, t("todayCsv"))))
    } else {
      parts.push(el("p", { class: "alert empty", text: t("todayNone") }))
    }
    target.replaceChildren(...parts)
  } catch (error) {
    showError(target, error, loadToday)
  }
}

// ---- wiring ----------------------------------------------------------------------------------------

const input = $("month")
const initial = new URLSearchParams(location.search).get("month")
if (initial !== null && /^\d{4}-(0[1-9]|1[0-2])$/.test(initial)) input.value = initial

const go = (month) => {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return
  input.value = month
  const url = new URL(location.href)
  url.searchParams.set("month", month)
  history.replaceState(null, "", url)
  loadMonth(month)
}

input.addEventListener("change", () => go(input.value))
$("month-form").addEventListener("submit", (e) => {
  e.preventDefault()
  go(input.value)
})
$("prev-month").addEventListener("click", () => go(shiftMonth(input.value || settings.defaultMonth, -1)))
$("next-month").addEventListener("click", () => go(shiftMonth(input.value || settings.defaultMonth, 1)))

loadMonth(input.value || settings.defaultMonth)
loadToday()
