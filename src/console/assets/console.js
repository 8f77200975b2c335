// The console's fleet page: reads the console's own API (never a client's), renders each client's
// row as it arrives, sorts, filters, closes months and builds the month's archive.
"use strict"
;(() => {
  const L = JSON.parse(document.getElementById("labels").textContent)
  const lang = document.querySelector("main").dataset.lang
  const t = (key, vars = {}) => (L[key] ?? key).replace(/\{(\w+)\}/g, (all, k) => (k in vars ? String(vars[k]) : all))
  const $ = (id) => document.getElementById(id)
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue
      if (k === "text") e.textContent = v
      else if (k === "class") e.className = v
      else if (k.startsWith("data-")) e.setAttribute(k, v)
      else if (k in e) e[k] = v
      else e.setAttribute(k, v)
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c)
    return e
  }

  /** Decimal text as shown: Polish "1 234,56 zł", English "PLN 1,234.56"; never through floats. */
  const groups = (int, sep) => int.replace(/\B(?=(\d{3})+(?!\d))/g, sep)
  const decimal = (text) => {
    if (text === null || text === undefined) return t("none")
    const neg = text.startsWith("-")
    const [int, frac = ""] = (neg ? text.slice(1) : text).split(".")
    const body = lang === "pl" ? groups(int, "\u00a0") + (frac ? "," + frac : "") : groups(int, ",") + (frac ? "." + frac : "")
    return (neg ? "\u2212" : "") + body
  }
  const pln = (text) => text === null || text === undefined ? t("none") : lang === "pl" ? `${decimal(text)}\u00a0zł` : `PLN\u00a0${decimal(text)}`
  const usd = (text) => text === null || text === undefined ? t("none") : lang === "pl" ? `${decimal(text)}\u00a0USD` : `USD\u00a0${decimal(text)}`
  const pct = (text) => text === null || text === undefined ? t("none") : `${decimal(text)}\u00a0%`
  // Times as the reseller reads them: Warsaw's clock.
  const clock = new Intl.DateTimeFormat(lang === "pl" ? "pl-PL" : "en-GB", { timeZone: "Europe/Warsaw", dateStyle: "short", timeStyle: "short" })
  const when = (iso) => iso ? clock.format(new Date(iso)) : t("none")

  let month = $("month").value
  let rows = new Map()
  let totals = null
  let sort = { key: "client", dir: 1 }
  let loading = null

  const stateKey = (r) => r.overview === null ? "error" : r.overview.state.status === "closed" ? "closed" : r.overview.state.closable ? "closable" : "open"
  const sortValue = (r, key) => {
    const o = r.overview
    if (key === "client") return r.id
    if (o === null) return null
    switch (key) {
      case "billedPln": case "billedUsd": case "openRouterPln": case "marginPln": case "marginPercent":
        return o[key] === null ? null : Number(o[key])
      case "state": return stateKey(r)
      case "recon": return o.reconciliation.daysMissing * 1000 + o.reconciliation.daysUnreconciled
      case "lastRun": return o.lastBatchRun ? o.lastBatchRun.startedAt : ""
      case "ready": return o.ready.ok ? 1 : 0
      case "alerts": return o.budgetAlerts ? o.budgetAlerts.length : -1
      default: return o[key]
    }
  }

  const cell = (col, content, cls) => el("td", { "data-label": t(col), class: cls }, content)

  const stateText = (o) => {
    const s = o.state
    if (s.status === "closed") return t("stateClosed", { at: when(s.closedAt), by: s.closedBy })
    if (s.closable) return t("stateClosable")
    return s.needsAcceptance ? `${t("stateOpen")} (${t("needsAcceptance")})` : t("stateOpen")
  }

  const rowElement = (r) => {
    const o = r.overview
    const tr = el("tr", { "data-client": r.id, "data-status": r.status, "data-state": stateKey(r) })
    const box = el("input", { type: "checkbox", class: "pick", value: r.id, disabled: o === null || o.state.status === "closed", "aria-label": `${t("colSelect")} ${r.id}` })
    tr.append(el("td", { class: "pick-cell" }, box))
    tr.append(el("th", { scope: "row", "data-label": t("colClient") }, el("span", { class: "client", text: r.id }), el("span", { class: "org", text: r.orgId })))
    if (o === null) {
      // Why, in the page's language; the detail (an error code, the app's own words) beside it.
      const detailed = r.reason === "connection" || r.reason === "app" || r.reason === "noToken"
      tr.append(el("td", { colSpan: 12, class: "problem", "data-label": t(r.status) },
        el("strong", { class: `badge ${r.status}`, text: t(r.status) }), " ",
        el("span", { class: "why", text: r.reason ? t(`why.${r.reason}`) : (r.error ?? ""), title: r.error ?? "" }),
        detailed && r.error ? el("small", { class: "detail", text: ` (${r.error.replace(/^no connection \((.*)\)$/, "$1")})` }) : null))
      return tr
    }
    const rc = o.reconciliation
    tr.append(
      cell("colBilled", pln(o.billedPln), "num billed"),
      cell("colUsd", usd(o.billedUsd), "num usd"),
      cell("colCost", pln(o.openRouterPln), "num cost"),
      cell("colMargin", pln(o.marginPln), "num margin"),
      cell("colMarginPct", pct(o.marginPercent), "num margin-pct"),
      el("td", { "data-label": t("colState"), class: `state ${stateKey(r)}`, title: o.state.refusal ?? "" },
        el("span", { text: stateText(o) }),
        o.state.refusal ? el("details", { class: "refusal" }, el("summary", { text: t("why") }), el("small", { text: o.state.refusal })) : null),
      cell("colRecon", rc.configured ? `${rc.daysOk} / ${rc.daysMissing} / ${rc.daysUnreconciled}` : t("notConfigured"), "recon"),
      cell("colLastRun", o.lastBatchRun ? el("span", {}, el("span", { class: "nowrap", text: o.lastBatchRun.usageDate }), " ", t(`run.${o.lastBatchRun.status}`)) : t("none"), "last-run"),
      cell("colReady", o.ready.ok ? t("ready") : `${t("notReady")}: ${Object.entries(o.ready.checks).filter(([, c]) => !c.ok).map(([n]) => n).join(", ")}`, o.ready.ok ? "ready ok" : "ready bad"),
      cell("colPending", String(o.pendingCosts), "num pending"),
      cell("colQuarantine", String(o.quarantinedRows), "num quarantine"),
      cell("colAlerts", o.budgetAlerts === undefined ? t("none") : String(o.budgetAlerts.length), "num alerts")
    )
    return tr
  }

  const render = () => {
    const text = $("filter").value.trim().toLowerCase()
    const state = $("state-filter").value
    const list = [...rows.values()]
      .filter((r) => text === "" || r.id.toLowerCase().includes(text) || r.orgId.toLowerCase().includes(text))
      .filter((r) => state === "" || stateKey(r) === state)
      .sort((a, b) => {
        const x = sortValue(a, sort.key), y = sortValue(b, sort.key)
        if (x === y) return a.id < b.id ? -1 : 1
        if (x === null) return 1
        if (y === null) return -1
        return (x < y ? -1 : 1) * sort.dir
      })
    const picked = new Set([...document.querySelectorAll("#fleet tbody .pick:checked")].map((b) => b.value))
    const body = document.querySelector("#fleet tbody")
    body.replaceChildren(...list.map(rowElement))
    for (const b of body.querySelectorAll(".pick")) if (picked.has(b.value) && !b.disabled) b.checked = true
    for (const th of document.querySelectorAll("#fleet th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === sort.key ? (sort.dir === 1 ? "ascending" : "descending") : "none")
    }
    const foot = $("totals")
    if (totals === null) return foot.replaceChildren()
    foot.replaceChildren(
      el("td", { class: "pick-cell" }),
      el("th", { scope: "row", "data-label": t("total"), text: t("totalOf", { ok: totals.ok, clients: totals.clients }) }),
      cell("colBilled", pln(totals.billedPln), "num billed"),
      cell("colUsd", usd(totals.billedUsd), "num usd"),
      cell("colCost", pln(totals.openRouterPln), "num cost"),
      cell("colMargin", pln(totals.marginPln), "num margin"),
      cell("colMarginPct", pct(totals.marginPercent), "num margin-pct"),
      el("td", { colSpan: 4 }),
      cell("colPending", String(totals.pendingCosts), "num pending"),
      cell("colQuarantine", String(totals.quarantinedRows), "num quarantine"),
      el("td")
    )
  }

  // Rows arrive one by one: the table is redrawn (sorted and filtered) at most every 400 ms while
  // they come, and once when all are in; drawing it once per row would cost more than the rows.
  let drawTimer = null
  const renderSoon = () => {
    if (drawTimer !== null) return
    drawTimer = setTimeout(() => {
      drawTimer = null
      render()
    }, 400)
  }
  const renderNow = () => {
    if (drawTimer !== null) clearTimeout(drawTimer)
    drawTimer = null
    render()
  }

  const problem = async (res) => {
    if (res.status === 401) return t("sessionEnded")
    try { return (await res.json()).error ?? `HTTP ${res.status}` } catch { return `HTTP ${res.status}` }
  }

  const load = async (fresh = false) => {
    const mine = {}
    loading = mine
    rows = new Map()
    totals = null
    if (drawTimer !== null) clearTimeout(drawTimer)
    drawTimer = null
    $("csv").href = `/api/fleet.csv?month=${month}`
    $("csv-excel").href = `/api/fleet.csv?month=${month}&dialect=excel-pl`
    $("status").textContent = t("loading")
    $("status").dataset.state = "loading"
    render()
    const res = await fetch(`/api/fleet?month=${encodeURIComponent(month)}&format=ndjson${fresh ? "&fresh=1" : ""}`, { headers: { accept: "application/x-ndjson" } })
    if (!res.ok) {
      $("status").textContent = t("error", { error: await problem(res) })
      return
    }
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ""
    let total = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (loading !== mine) return reader.cancel()
      buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done })
      const lines = buffer.split("\n")
      buffer = lines.pop()
      for (const line of lines) {
        if (line.trim() === "") continue
        const m = JSON.parse(line)
        if (m.type === "start") {
          total = m.total
          const e = $("registry-error")
          e.hidden = m.registryError === null
          e.textContent = m.registryError === null ? "" : t("registryError", { error: m.registryError })
        } else if (m.type === "row") {
          rows.set(m.row.id, m.row)
          $("status").textContent = t("loaded", { done: rows.size, total })
        } else if (m.type === "done") {
          totals = m.totals
        }
      }
      if (done) break
      renderSoon()
    }
    renderNow()
    if (totals !== null) $("status").dataset.state = "done"
  }

  $("controls").addEventListener("submit", (e) => {
    e.preventDefault()
    month = $("month").value
    const url = new URL(location.href)
    url.searchParams.set("month", month)
    history.replaceState(null, "", url)
    load()
  })
  $("refresh").addEventListener("click", () => load(true))
  $("filter").addEventListener("input", render)
  $("state-filter").addEventListener("change", render)
  $("select-all").addEventListener("change", (e) => {
    for (const b of document.querySelectorAll("#fleet tbody .pick")) if (!b.disabled) b.checked = e.target.checked
  })
  for (const th of document.querySelectorAll("#fleet th[data-sort]")) {
    th.tabIndex = 0
    th.title = t("sortBy", { label: th.textContent })
    const go = () => {
      sort = { key: th.dataset.sort, dir: sort.key === th.dataset.sort ? -sort.dir : 1 }
      render()
    }
    th.addEventListener("click", go)
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go() } })
  }

  $("close-form").addEventListener("submit", async (e) => {
    e.preventDefault()
    const clients = [...document.querySelectorAll("#fleet tbody .pick:checked")].map((b) => b.value)
    const out = $("close-results")
    if (clients.length === 0) return out.replaceChildren(el("li", { text: t("closeNone") }))
    out.replaceChildren(el("li", { text: t("closing") }))
    $("close").disabled = true
    try {
      const reason = $("reason").value.trim()
      const res = await fetch("/api/close", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ month, clients, acceptUnreconciled: $("accept").checked, ...(reason === "" ? {} : { reason }) })
      })
      if (!res.ok) return out.replaceChildren(el("li", { class: "refused", text: t("error", { error: await problem(res) }) }))
      const { results } = await res.json()
      out.replaceChildren(...results.map((r) =>
        el("li", { class: r.ok ? "ok" : "refused", "data-client": r.id },
          el("strong", { text: r.id }), ": ", r.ok ? t("closedOk", { at: when(r.closedAt) }) : t("refused", { error: r.error }))))
      await load(true)
    } finally {
      $("close").disabled = false
    }
  })

  $("zip").addEventListener("click", async () => {
    const status = $("zip-status"), bar = $("zip-progress"), link = $("zip-link")
    link.hidden = true
    $("zip").disabled = true
    try {
      const res = await fetch("/api/archives", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ month }) })
      if (!res.ok) return void (status.textContent = t("zipFailed", { error: await problem(res) }))
      let p = await res.json()
      bar.hidden = false
      while (p.state === "running") {
        bar.max = Math.max(p.total, 1)
        bar.value = p.done
        status.textContent = t("zipProgress", p)
        await new Promise((r) => setTimeout(r, 300))
        const next = await fetch(`/api/archives/${p.id}`)
        if (!next.ok) return void (status.textContent = t("zipFailed", { error: await problem(next) }))
        p = await next.json()
      }
      bar.value = bar.max
      if (p.state === "failed") return void (status.textContent = t("zipFailed", { error: p.error }))
      status.textContent = t("zipReady", { included: p.included.length, skipped: p.skipped.length })
      link.href = `/api/archives/${p.id}/zip`
      link.hidden = false
    } finally {
      $("zip").disabled = false
    }
  })

  load()
})()
