// mai-usage dashboard. Vanilla JS, no dependencies: it fetches the JSON API (same origin, the
// HttpOnly session cookie goes along) and draws the tables and the SVG chart itself.
"use strict"

const $ = (id) => document.getElementById(id)
const settings = document.body.dataset
const NBSP = "\u00a0"

// ---- formatting: exact, from the API's decimal strings; never through floats ----------------

/** "1234567" → "1 234 567" with the given separator. */
const group = (digits, sep) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep)

const splitDecimal = (text) => {
  const negative = text.startsWith("-")
  const [int, frac = ""] = (negative ? text.slice(1) : text).split(".")
  return { negative, int: int === "" ? "0" : int, frac }
}

/** "1234.5" → "1 234,50 zł" (Polish: no-break space between thousands, decimal comma). */
const formatPln = (text) => {
  if (text === null || text === undefined) return "—"
  const { negative, int, frac } = splitDecimal(text)
  return `${negative ? "-" : ""}${group(int, NBSP)},${frac.padEnd(2, "0")}${NBSP}zł`
}

/** "0.012345" → "$0.012345"; "1234.5" → "$1,234.50" (all decimals kept, at least two). */
const formatUsd = (text) => {
  const { negative, int, frac } = splitDecimal(text)
  return `${negative ? "-" : ""}$${group(int, ",")}.${frac.padEnd(2, "0")}`
}

const formatCount = (n) => group(String(n), ",")

/** Exact ordering of decimal strings (sorting money columns). */
const decimalKey = (text) => {
  const { negative, int, frac } = splitDecimal(text ?? "0")
  const v = BigInt(int + frac.padEnd(12, "0").slice(0, 12))
  return negative ? -v : v
}

const monthName = (month) => {
  const [y, m] = month.split("-").map(Number)
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" })
}

const shiftMonth = (month, by) => {
  const [y, m] = month.split("-").map(Number)
  const d = new Date(Date.UTC(y, m - 1 + by, 1))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`
}

const daysOfMonth = (month) => {
  const [y, m] = month.split("-").map(Number)
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
  return Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`)
}

const localTime = (iso) => {
  if (!iso) return "—"
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString("en-GB", { timeZone: settings.timeZone, dateStyle: "medium", timeStyle: "medium" }) +
    ` (${settings.timeZone})`
}

// ---- DOM helpers -------------------------------------------------------------------------------

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k === "class") node.className = v
    else if (k === "text") node.textContent = v
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v === true ? "" : v)
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c)
  return node
}

const SVG = "http://www.w3.org/2000/svg"
const svg = (tag, attrs = {}, ...children) => {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  for (const c of children) node.append(c)
  return node
}

// ---- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(kind, message) {
    super(message)
    this.kind = kind
  }
}

const getJson = async (path) => {
  let res
  try {
    res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
  } catch (e) {
    throw new ApiError("unreachable", "The API cannot be reached (network error). Check that the service is running and try again.")
  }
  if (res.status === 401) throw new ApiError("unauthorized", "Your session has ended.")
  let body = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  if (!res.ok) {
    const detail = body && typeof body.error === "string" ? body.error : body && typeof body.message === "string" ? body.message : `HTTP ${res.status}`
    throw new ApiError(res.status >= 500 ? "unreachable" : "bad", `The API answered with an error: ${detail}`)
  }
  return body
}

const showError = (target, error, retry) => {
  target.replaceChildren()
  const box = el("div", { class: "alert error", role: "alert" })
  if (error.kind === "unauthorized") {
    box.append(error.message + " ", el("a", { href: "/", text: "Log in again" }))
  } else {
    box.append(error.message || String(error))
    if (retry) box.append(el("button", { type: "button", class: "retry", text: "Retry", onclick: retry }))
  }
  target.append(box)
}

// ---- sortable tables ---------------------------------------------------------------------------

/**
 * columns: [{ key, label, type: "text"|"count"|"decimal", format?, className? }]
 * Each header is a button (keyboard: Tab to it, Enter or Space); aria-sort says the order.
 */
const sortableTable = (table, columns, rows, initial, footer) => {
  let sortKey = initial.key
  let direction = initial.direction
  const compare = (col) => (a, b) => {
    const x = a[col.key], y = b[col.key]
    let r
    if (col.type === "decimal") r = decimalKey(x) < decimalKey(y) ? -1 : decimalKey(x) > decimalKey(y) ? 1 : 0
    else if (col.type === "count") r = x - y
    else r = String(x).localeCompare(String(y), "pl")
    return direction === "ascending" ? r : -r
  }
  const render = () => {
    const col = columns.find((c) => c.key === sortKey)
    const sorted = [...rows].sort(compare(col))
    const head = el("tr")
    for (const c of columns) {
      const active = c.key === sortKey
      const th = el("th", {
        scope: "col",
        class: [c.type === "text" ? "" : "num", c.className ?? ""].join(" ").trim() || undefined,
        "aria-sort": active ? direction : undefined
      })
      th.append(el(
        "button",
        {
          type: "button",
          "data-key": c.key,
          "aria-label": `${c.label}: sort ${active && direction === "descending" ? "ascending" : "descending"}`,
          onclick: () => {
            if (sortKey === c.key) direction = direction === "ascending" ? "descending" : "ascending"
            else {
              sortKey = c.key
              direction = c.type === "text" ? "ascending" : "descending"
            }
            render()
            table.querySelector(`th button[data-key="${c.key}"]`).focus()
          }
        },
        c.label,
        el("span", { class: "arrow", "aria-hidden": "true", text: active ? (direction === "ascending" ? "▲" : "▼") : "" })
      ))
      head.append(th)
    }
    const body = el("tbody")
    for (const r of sorted) {
      const tr = el("tr")
      for (const c of columns) {
        const v = r[c.key]
        const text = c.format ? c.format(v) : c.type === "count" ? formatCount(v) : String(v ?? "")
        tr.append(el("td", { class: [c.type === "text" ? "name" : "num", c.className ?? ""].join(" ").trim(), text }))
      }
      body.append(tr)
    }
    const parts = [el("thead", {}, head), body]
    if (footer) {
      const tr = el("tr")
      columns.forEach((c, i) => {
        const v = footer[c.key]
        const text = i === 0 ? "Total" : v === undefined ? "" : c.format ? c.format(v) : c.type === "count" ? formatCount(v) : String(v)
        tr.append(el("td", { class: [i === 0 ? "name" : "num", c.className ?? ""].join(" ").trim(), text }))
      })
      parts.push(el("tfoot", {}, tr))
    }
    table.replaceChildren(...parts)
  }
  render()
}

const moneyColumns = [
  { key: "requests", label: "Requests", type: "count", className: "hide-narrow" },
  { key: "totalTokens", label: "Tokens", type: "count", className: "hide-narrow" },
  { key: "costUsd", label: "USD", type: "decimal", format: formatUsd },
  { key: "costPln", label: "PLN", type: "decimal", format: formatPln }
]

// ---- the chart: one bar per day of the month, drawn as SVG here --------------------------------

const drawChart = (month, days) => {
  const byDate = new Map(days.map((d) => [d.date, d]))
  const all = daysOfMonth(month)
  const values = all.map((date) => (byDate.has(date) ? Number(byDate.get(date).costPln) : 0)) // scale only
  const max = Math.max(...values, 0)
  const W = 640, H = 220, left = 28, right = 8, top = 28, bottom = 26
  const plotW = W - left - right, plotH = H - top - bottom
  const step = plotW / all.length
  const barW = Math.max(2, step * 0.7)
  const peak = days.reduce((best, d) => (best === null || decimalKey(d.costPln) > decimalKey(best.costPln) ? d : best), null)
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": peak === null
      ? `Cost per day in PLN, ${monthName(month)}: no billed days`
      : `Cost per day in PLN, ${monthName(month)}: ${days.length} billed days, highest ${formatPln(peak.costPln)} on ${peak.date}. The table "Per day" below has every figure.`
  })
  root.append(svg("line", { class: "axis", x1: left, y1: top + plotH, x2: W - right, y2: top + plotH }))
  if (max > 0) root.append(svg("line", { class: "grid", x1: left, y1: top, x2: W - right, y2: top }))
  const maxLabel = days.length === 0 ? "0,00 zł" : formatPln(peak.costPln)
  root.append(svg("text", { x: left + 4, y: top - 8, "text-anchor": "start" }, maxLabel))
  root.append(svg("text", { x: left - 4, y: top + plotH, "text-anchor": "end" }, "0"))
  all.forEach((date, i) => {
    const v = values[i]
    const h = max > 0 ? (v / max) * plotH : 0
    const x = left + i * step + (step - barW) / 2
    if (byDate.has(date)) {
      const d = byDate.get(date)
      root.append(svg(
        "rect",
        { class: "bar", x: x.toFixed(2), y: (top + plotH - h).toFixed(2), width: barW.toFixed(2), height: Math.max(h, 1).toFixed(2), "data-date": date },
        svg("title", {}, `${date}: ${formatPln(d.costPln)} (${formatUsd(d.costUsd)})`)
      ))
    }
    const dayNo = i + 1
    if (dayNo === 1 || dayNo % 5 === 0 || dayNo === all.length) {
      root.append(svg("text", { x: (left + i * step + step / 2).toFixed(2), y: H - 8, "text-anchor": "middle" }, String(dayNo)))
    }
  })
  $("chart").replaceChildren(root)
}

// ---- the month -----------------------------------------------------------------------------------

const csvLink = (href, label) => el("a", { class: "button", href, download: "", text: label })

const renderBatch = (summary) => {
  const target = $("batch-body")
  const run = summary.lastBatchRun
  if (run === null) {
    target.replaceChildren(el("p", {
      class: "alert empty",
      text: settings.batchEnabled === "true"
        ? `No batch run yet. The daily batch summarises the previous day at ${settings.batchTime} (${settings.timeZone}).`
        : "No batch run yet, and the daily schedule is off (DAILY_BATCH_ENABLED=false): run it with `mai-usage batch --run-now`."
    }))
    return
  }
  const dl = el("dl", { class: "run" })
  const item = (label, value) => dl.append(el("dt", { text: label }), el("dd", {}, value))
  item("Status", el("span", { class: `status-${run.status}`, id: "batch-status", text: run.status }))
  item("Usage day", run.usageDate)
  item("Trigger", run.trigger)
  item("Started", localTime(run.startedAt))
  item("Finished", localTime(run.finishedAt))
  if (run.rowsWritten !== null) item("Rows written", formatCount(run.rowsWritten))
  if (run.corrections !== null) item("Corrections", formatCount(run.corrections))
  if (run.rateTable !== null) item("NBP table", `${run.rateTable} (rate ${run.rate})`)
  if (run.error) item("Error", run.error)
  const parts = [dl]
  const ok = summary.lastSuccessfulRun
  if (run.status !== "succeeded") {
    parts.push(el("p", {
      class: "small",
      text: ok === null ? "No run has succeeded yet." : `Last successful run: usage day ${ok.usageDate}, finished ${localTime(ok.finishedAt)}.`
    }))
  }
  target.replaceChildren(...parts)
}

const renderSummary = (summary) => {
  const month = summary.month
  $("month-name").textContent = monthName(month)
  $("total-pln").textContent = formatPln(summary.totals.costPln)
  $("total-usd").textContent = formatUsd(summary.totals.costUsd)
  $("total-requests").textContent = formatCount(summary.totals.requests)
  $("total-tokens").textContent = formatCount(summary.totals.totalTokens)
  drawChart(month, summary.days)
  sortableTable($("users-table"), [{ key: "user", label: "User", type: "text" }, ...moneyColumns], summary.users,
    { key: "costPln", direction: "descending" }, summary.totals)
  sortableTable($("models-table"), [{ key: "model", label: "Model", type: "text" }, ...moneyColumns], summary.models,
    { key: "costPln", direction: "descending" }, summary.totals)
  sortableTable($("days-table"), [
    { key: "date", label: "Day", type: "text", className: "date" },
    ...moneyColumns,
    { key: "rateTable", label: "NBP table", type: "text", className: "date" },
    { key: "rateDate", label: "Table date", type: "text", className: "date" },
    { key: "rate", label: "Rate", type: "text", className: "num" }
  ], summary.days, { key: "date", direction: "ascending" }, summary.totals)
  const q = `month=${encodeURIComponent(month)}&format=csv`
  $("downloads").replaceChildren(
    csvLink(`/api/v1/usage/summary?${q}&list=rows`, "All rows (day × user × model)"),
    csvLink(`/api/v1/usage/summary?${q}&list=days`, "Per day"),
    csvLink(`/api/v1/usage/summary?${q}&list=users`, "Per user"),
    csvLink(`/api/v1/usage/summary?${q}&list=models`, "Per model"),
    csvLink(`/api/v1/usage/summary?${q}&list=rates`, "NBP tables used")
  )
  renderBatch(summary)
}

let current = 0
const loadMonth = async (month) => {
  const ticket = ++current
  const status = $("status")
  status.replaceChildren(el("p", { class: "small", text: `Loading ${monthName(month)}…` }))
  try {
    const summary = await getJson(`/api/v1/usage/summary?month=${encodeURIComponent(month)}`)
    if (ticket !== current) return
    status.replaceChildren()
    renderSummary(summary)
    const empty = summary.days.length === 0
    $("report").hidden = false
    for (const id of ["chart-h", "users-h", "models-h", "days-h", "downloads-h"]) $(id).closest("section").hidden = empty
    if (empty) {
      status.replaceChildren(el("p", {
        class: "alert empty",
        id: "empty-state",
        text: summary.lastBatchRun === null
          ? `No usage has been billed yet: no daily batch has run. Figures appear here after the first run.`
          : `No usage billed in ${monthName(month)}. Pick another month, or see today's usage below.`
      }))
    }
    // Other panels (accounting) draw from the same summary.
    document.dispatchEvent(new CustomEvent("mai:summary", { detail: summary }))
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
    line.append(`${today.date}: `, el("strong", { id: "today-usd", text: formatUsd(today.totals.costUsd) }))
    if (today.rate !== null) {
      line.append(
        " ≈ ",
        el("strong", { id: "today-pln", text: formatPln(today.totals.costPln) }),
        ` at NBP table ${today.rate.rateTable} of ${today.rate.rateDate} (rate ${today.rate.rate}, markup ×${today.markup}${today.rate.stale ? "; NBP could not be refreshed, last known table" : ""}) — indicative only.`
      )
    } else {
      line.append(" ", el("span", { id: "today-no-pln", text: `· ${today.rateError ?? "No PLN figure: the NBP rate is not available."}` }))
    }
    parts.push(line, el("p", {
      class: "small",
      text: `${formatCount(today.totals.requests)} ${today.totals.requests === 1 ? "request" : "requests"} so far. Billed by the batch after the day ends, at the NBP rate the rule picks for the day.`
    }))
    if (today.rows.length > 0) {
      const table = el("table", { id: "today-table", class: "sortable" })
      sortableTable(table, [
        { key: "user", label: "User", type: "text" },
        { key: "model", label: "Model", type: "text" },
        ...moneyColumns
      ], today.rows, { key: "costUsd", direction: "descending" }, null)
      parts.push(el("div", { class: "scroll" }, table))
      parts.push(el("p", { class: "downloads" }, csvLink("/api/v1/usage/today?format=csv", "Today so far (CSV)")))
    } else {
      parts.push(el("p", { class: "alert empty", text: "No usage recorded today yet." }))
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
