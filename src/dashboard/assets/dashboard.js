// mai-usage dashboard. Vanilla JS, no dependencies: it fetches the JSON API (same origin, the
// HttpOnly session cookie goes along) and draws the tables and the SVG chart itself.
"use strict"

const $ = (id) => document.getElementById(id)
const settings = document.body.dataset
const NBSP = "\u00a0"

// ---- formatting and labels: one locale for the whole page (assets/locale.js) -----------------

const {
  lang, t, addMessages, plural, formatCount, formatPln, formatUsd, formatUsdExact, decimalKey, formatDay,
  monthName, formatDateTime, formatDecimal, compareText
} = window.MaiLocale

addMessages({
  pl: {
    unreachable: "Nie można połączyć się z API (błąd sieci). Sprawdź, czy usługa działa, i spróbuj ponownie.",
    sessionEnded: "Sesja wygasła.", logInAgain: "Zaloguj się ponownie", retry: "Ponów",
    apiError: "API zwróciło błąd: {detail}", sortBy: "{label}: sortuj {dir}", asc: "rosnąco", desc: "malejąco",
    total: "Razem", colRequests: "Zapytania", colTokens: "Tokeny", colUser: "Użytkownik", colModel: "Model",
    colDay: "Dzień", colTable: "Tabela NBP", colTableDate: "Data tabeli", colRate: "Kurs",
    chartLabel: "Koszt dziennie w PLN, {month}: {days}, najwyżej {max} dnia {date}. Tabela „Według dni” poniżej ma wszystkie kwoty.",
    chartEmpty: "Koszt dziennie w PLN, {month}: brak rozliczonych dni",
    noRunYet: "Rozliczenie jeszcze się nie odbyło. Codzienne rozliczenie podsumowuje poprzedni dzień o {time} ({tz}).",
    noRunScheduleOff: "Rozliczenie jeszcze się nie odbyło, a harmonogram jest wyłączony (DAILY_BATCH_ENABLED=false): uruchom `mai-usage batch --run-now`.",
    status: "Status", usageDay: "Dzień użycia", trigger: "Wyzwalacz", started: "Rozpoczęte", finished: "Zakończone",
    rowsWritten: "Zapisane wiersze", corrections: "Korekty", nbpTable: "Tabela NBP", error: "Błąd",
    tableRate: "{table} (kurs {rate})",
    "status.succeeded": "zakończone powodzeniem", "status.failed": "nieudane", "status.running": "w toku",
    standing: "Kwoty za {day} pozostają z udanego uruchomienia #{id} ({finished}); ponowienie ich nie zmieniło.",
    noSuccess: "Żadne uruchomienie jeszcze się nie powiodło; za {day} nie ma kwot.",
    failedNoFigures: "Za {day} nie ma jeszcze kwot: rozliczenie ponowi próbę. Ostatnie udane uruchomienie: dzień {okDay}, zakończone {okAt}.",
    csvRows: "Wszystkie wiersze (dzień × użytkownik × model)", csvDays: "Według dni", csvUsers: "Według użytkowników",
    csvModels: "Według modeli", csvRates: "Użyte tabele NBP",
    loadingMonth: "Wczytywanie: {month}…",
    emptyNoRun: "Nic jeszcze nie rozliczono: codzienne rozliczenie się nie odbyło. Kwoty pojawią się po pierwszym uruchomieniu.",
    emptyMonth: "Brak rozliczonego użycia w miesiącu {month}. Wybierz inny miesiąc albo zobacz dzisiejsze użycie poniżej.",
    unbilledIntro: "Te dni mają użycie w rejestrze, ale żadne rozliczenie ich nie objęło, więc nie ma ich w sumach powyżej.",
    unbilledOld: "starszy niż 31 dni: rozlicz ręcznie", unbilledSoon: "harmonogram rozliczy go sam",
    unbilledHow: "Rozliczenie dnia ręcznie (w kontenerze: docker exec …):",
    todayAt: " w tabeli NBP {table} z {date} (kurs {rate}, marża ×{markup}{stale}) — tylko orientacyjnie.",
    todayStale: "; NBP nie odpowiada, ostatnia znana tabela", todayNoPln: "Brak kwoty w PLN: kurs NBP jest niedostępny.",
    todayCount: "{requests} do tej pory. Rozliczane po zakończeniu dnia, po kursie NBP wybranym dla tego dnia.",
    todayCsv: "Dziś do tej pory (CSV)", todayNone: "Dziś jeszcze nie zarejestrowano użycia."
  },
  en: {
    unreachable: "The API cannot be reached (network error). Check that the service is running and try again.",
    sessionEnded: "Your session has ended.", logInAgain: "Log in again", retry: "Retry",
    apiError: "The API answered with an error: {detail}", sortBy: "{label}: sort {dir}", asc: "ascending", desc: "descending",
    total: "Total", colRequests: "Requests", colTokens: "Tokens", colUser: "User", colModel: "Model",
    colDay: "Day", colTable: "NBP table", colTableDate: "Table date", colRate: "Rate",
    chartLabel: "Cost per day in PLN, {month}: {days}, highest {max} on {date}. The table \"Per day\" below has every figure.",
    chartEmpty: "Cost per day in PLN, {month}: no billed days",
    noRunYet: "No batch run yet. The daily batch summarises the previous day at {time} ({tz}).",
    noRunScheduleOff: "No batch run yet, and the daily schedule is off (DAILY_BATCH_ENABLED=false): run it with `mai-usage batch --run-now`.",
    status: "Status", usageDay: "Usage day", trigger: "Trigger", started: "Started", finished: "Finished",
    rowsWritten: "Rows written", corrections: "Corrections", nbpTable: "NBP table", error: "Error",
    tableRate: "{table} (rate {rate})",
    "status.succeeded": "succeeded", "status.failed": "failed", "status.running": "running",
    standing: "The figures for {day} stand, from successful run #{id} ({finished}); the failed re-run changed nothing.",
    noSuccess: "No run has succeeded yet; there are no figures for {day}.",
    failedNoFigures: "No figures for {day} yet: the batch retries. Last successful run: usage day {okDay}, finished {okAt}.",
    csvRows: "All rows (day × user × model)", csvDays: "Per day", csvUsers: "Per user", csvModels: "Per model",
    csvRates: "NBP tables used",
    loadingMonth: "Loading {month}…",
    emptyNoRun: "No usage has been billed yet: no daily batch has run. Figures appear here after the first run.",
    emptyMonth: "No usage billed in {month}. Pick another month, or see today's usage below.",
    unbilledIntro: "These days have usage in the ledger but no batch run billed them, so they are not in the totals above.",
    unbilledOld: "older than 31 days: bill it by hand", unbilledSoon: "the schedule's catch-up bills it",
    unbilledHow: "Bill a day by hand (in the container: docker exec …):",
    todayAt: " at NBP table {table} of {date} (rate {rate}, markup ×{markup}{stale}) — indicative only.",
    todayStale: "; NBP could not be refreshed, last known table", todayNoPln: "No PLN figure: the NBP rate is not available.",
    todayCount: "{requests} so far. Billed by the batch after the day ends, at the NBP rate the rule picks for the day.",
    todayCsv: "Today so far (CSV)", todayNone: "No usage recorded today yet."
  }
})

const REQUESTS = { pl: { one: "zapytanie", few: "zapytania", many: "zapytań", other: "zapytania" }, en: { one: "request", other: "requests" } }
const BILLED_DAYS = { pl: { one: "rozliczony dzień", few: "rozliczone dni", many: "rozliczonych dni", other: "rozliczonego dnia" }, en: { one: "billed day", other: "billed days" } }

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

const localTime = (iso) => (iso ? `${formatDateTime(iso, settings.timeZone)} (${settings.timeZone})` : "—")

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
    throw new ApiError("unreachable", t("unreachable"))
  }
  if (res.status === 401) throw new ApiError("unauthorized", t("sessionEnded"))
  let body = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  if (!res.ok) {
    const detail = body && typeof body.error === "string" ? body.error : body && typeof body.message === "string" ? body.message : `HTTP ${res.status}`
    throw new ApiError(res.status >= 500 ? "unreachable" : "bad", t("apiError", { detail }))
  }
  return body
}

const showError = (target, error, retry) => {
  target.replaceChildren()
  const box = el("div", { class: "alert error", role: "alert" })
  if (error.kind === "unauthorized") {
    box.append(error.message + " ", el("a", { href: "/", text: t("logInAgain") }))
  } else {
    box.append(error.message || String(error))
    if (retry) box.append(el("button", { type: "button", class: "retry", text: t("retry"), onclick: retry }))
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
    else r = compareText(x, y)
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
          "aria-label": t("sortBy", { label: c.label, dir: active && direction === "descending" ? t("asc") : t("desc") }),
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
        const td = el("td", { class: [c.type === "text" ? "name" : "num", c.className ?? ""].join(" ").trim(), title: c.title ? c.title(v) : undefined })
        if (c.type === "text" && !c.format) td.append(...breakable(text))
        else td.textContent = text
        tr.append(td)
      }
      body.append(tr)
    }
    const parts = [el("thead", {}, head), body]
    if (footer) {
      const tr = el("tr")
      columns.forEach((c, i) => {
        const v = footer[c.key]
        const text = i === 0 ? t("total") : v === undefined ? "" : c.format ? c.format(v) : c.type === "count" ? formatCount(v) : String(v)
        tr.append(el("td", {
          class: [i === 0 ? "name" : "num", c.className ?? ""].join(" ").trim(),
          title: i > 0 && v !== undefined && c.title ? c.title(v) : undefined,
          text
        }))
      })
      parts.push(el("tfoot", {}, tr))
    }
    table.replaceChildren(...parts)
  }
  render()
}

/**
 * A name (an e-mail, a model id) with break opportunities after "@", ".", "/", "-" and "_", so a
 * narrow column wraps it there rather than in the middle of a word.
 */
const breakable = (text) => {
  const parts = String(text).split(/(?<=[@./_-])/)
  return parts.flatMap((p, i) => (i === 0 ? [p] : [document.createElement("wbr"), p]))
}

const moneyColumns = [
  { key: "requests", label: t("colRequests"), type: "count", className: "hide-narrow" },
  { key: "totalTokens", label: t("colTokens"), type: "count", className: "hide-narrow" },
  { key: "costUsd", label: "USD", type: "decimal", format: formatUsd, title: formatUsdExact },
  { key: "costPln", label: "PLN", type: "decimal", format: formatPln }
]

// ---- the chart: one bar per day of the month, drawn as SVG here --------------------------------

/** A round step for about `n` ticks up to `max`: 1, 2 or 5 × 10^k. */
const niceStep = (max, n) => {
  const raw = max / n
  const p = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)
}

/**
 * Drawn at the container's real width, so text keeps its size on a phone; a y axis with a few
 * round ticks in PLN, day numbers spaced so they never collide. Redrawn when the width changes.
 */
const drawChart = (month, days) => {
  const target = $("chart")
  const byDate = new Map(days.map((d) => [d.date, d]))
  const all = daysOfMonth(month)
  const values = all.map((date) => (byDate.has(date) ? Number(byDate.get(date).costPln) : 0)) // scale only
  const max = Math.max(...values, 0)
  const W = Math.max(280, Math.round(target.clientWidth || 640))
  const H = W < 480 ? 200 : 240
  const step = max > 0 ? niceStep(max, W < 480 ? 3 : 4) : 1
  const top = max > 0 ? Math.ceil(max / step) * step : 1
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step)
  const tickText = (v) => formatPln(v.toFixed(step < 1 ? 2 : 0)).replace(lang === "en" ? /\.00(?=$)/ : /,00(?=\u00a0zł$)/, "")
  const left = 12 + Math.max(...ticks.map((v) => tickText(v).length)) * 6.6
  const right = 8, topPad = 12, bottom = 24
  const plotW = W - left - right, plotH = H - topPad - bottom
  const slot = plotW / all.length
  const barW = Math.max(2, slot * 0.7)
  const y = (v) => topPad + plotH - (v / top) * plotH
  const peak = days.reduce((best, d) => (best === null || decimalKey(d.costPln) > decimalKey(best.costPln) ? d : best), null)
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": peak === null
      ? t("chartEmpty", { month: monthName(month) })
      : t("chartLabel", { month: monthName(month), days: plural(days.length, BILLED_DAYS), max: formatPln(peak.costPln), date: formatDay(peak.date) })
  })
  for (const v of ticks) {
    root.append(svg("line", { class: v === 0 ? "axis" : "grid", x1: left, y1: y(v).toFixed(1), x2: W - right, y2: y(v).toFixed(1) }))
    root.append(svg("text", { class: "tick", x: left - 6, y: (y(v) + 4).toFixed(1), "text-anchor": "end" }, tickText(v)))
  }
  all.forEach((date, i) => {
    if (!byDate.has(date)) return
    const d = byDate.get(date)
    const h = Math.max(((values[i] / top) * plotH), 1)
    root.append(svg(
      "rect",
      { class: "bar", x: (left + i * slot + (slot - barW) / 2).toFixed(2), y: (topPad + plotH - h).toFixed(2), width: barW.toFixed(2), height: h.toFixed(2), "data-date": date },
      svg("title", {}, `${formatDay(date)}: ${formatPln(d.costPln)} (${formatUsdExact(d.costUsd)})`)
    ))
  })
  // Day numbers: every k-th day so that labels (about 18 px wide) keep a gap between them.
  const every = [1, 2, 5, 7, 10].find((k) => slot * k >= 22) ?? 10
  all.forEach((date, i) => {
    const dayNo = i + 1
    if (dayNo === 1 || (dayNo % every === 0 && all.length - dayNo >= every / 2) || dayNo === all.length) {
      root.append(svg("text", { class: "day", x: (left + i * slot + slot / 2).toFixed(1), y: H - 6, "text-anchor": "middle" }, String(dayNo)))
    }
  })
  target.replaceChildren(root)
  target.dataset.width = String(W)
}

let lastChart = null
new ResizeObserver(() => {
  if (lastChart !== null && String(Math.round($("chart").clientWidth)) !== $("chart").dataset.width) drawChart(...lastChart)
}).observe($("chart"))

// ---- the month -----------------------------------------------------------------------------------

const csvLink = (href, label) => el("a", { class: "button", href, download: "", text: label })

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

const renderSummary = (summary) => {
  const month = summary.month
  $("month-name").textContent = monthName(month)
  $("total-pln").textContent = formatPln(summary.totals.costPln)
  $("total-usd").textContent = formatUsd(summary.totals.costUsd)
  $("total-usd").title = formatUsdExact(summary.totals.costUsd)
  $("total-requests").textContent = formatCount(summary.totals.requests)
  $("total-tokens").textContent = formatCount(summary.totals.totalTokens)
  lastChart = [month, summary.days]
  drawChart(month, summary.days)
  sortableTable($("users-table"), [{ key: "user", label: t("colUser"), type: "text" }, ...moneyColumns], summary.users,
    { key: "costPln", direction: "descending" }, summary.totals)
  sortableTable($("models-table"), [{ key: "model", label: t("colModel"), type: "text" }, ...moneyColumns], summary.models,
    { key: "costPln", direction: "descending" }, summary.totals)
  sortableTable($("days-table"), [
    { key: "date", label: t("colDay"), type: "text", className: "date", format: formatDay },
    ...moneyColumns,
    { key: "rateTable", label: t("colTable"), type: "text", className: "date" },
    { key: "rateDate", label: t("colTableDate"), type: "text", className: "date", format: formatDay },
    { key: "rate", label: t("colRate"), type: "text", className: "num", format: formatDecimal }
  ], summary.days, { key: "date", direction: "ascending" }, summary.totals)
  const q = `month=${encodeURIComponent(month)}&format=csv`
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
          ? t("emptyNoRun")
          : t("emptyMonth", { month: monthName(month) })
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
      parts.push(el("p", { class: "downloads" }, csvLink("/api/v1/usage/today?format=csv", t("todayCsv"))))
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
