// mai-usage dashboard: the month's cost per day, one bar per day, drawn as SVG here (no library).
// A classic script loaded after locale.js and dom.js:
//   const draw = window.MaiChart.costPerDay(target); draw(month, days)
"use strict"

window.MaiChart = (() => {
  const { lang, t, plural, formatPln, formatUsdExact, decimalKey, formatDay, monthName } = window.MaiLocale
  const { svg } = window.MaiDom

  const BILLED_DAYS = { pl: { one: "rozliczony dzień", few: "rozliczone dni", many: "rozliczonych dni", other: "rozliczonego dnia" }, en: { one: "billed day", other: "billed days" } }

  const daysOfMonth = (month) => {
    const [y, m] = month.split("-").map(Number)
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
    return Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`)
  }

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
  const draw = (target, month, days) => {
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

  /** The chart in `target`: a function that draws a month's days; redrawn when the width changes. */
  const costPerDay = (target) => {
    let last = null
    new ResizeObserver(() => {
      if (last !== null && String(Math.round(target.clientWidth)) !== target.dataset.width) draw(target, ...last)
    }).observe(target)
    return (month, days) => {
      last = [month, days]
      draw(target, month, days)
    }
  }

  return Object.freeze({ costPerDay })
})()
