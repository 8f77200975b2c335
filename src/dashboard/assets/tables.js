// mai-usage pages: tables. A classic script loaded after dom.js (and locale.js for the sortable one):
//   const { plainTable, sortableTable } = window.MaiTables
"use strict"

window.MaiTables = (() => {
  const { el, breakable } = window.MaiDom
  const cellClass = (num) => (num ? "num" : "name")

  /**
   * A table of text: `head` is [[label, num?]], each row (and `foot`, when given) [[text, num?, title?]];
   * numeric cells are right-aligned (class "num"), the others are names; `title` is shown on hover
   * (the exact USD of an amount shown to the cent).
   */
  const plainTable = (id, head, rows, foot) => {
    // Each cell carries its column's label (data-label): a narrow screen can show it beside the value.
    const row = (cells) => el("tr", {}, ...cells.map(([text, num, title], i) =>
      el("td", { class: cellClass(num), title, "data-label": head[i]?.[0], text })))
    return el(
      "table",
      { id },
      el("thead", {}, el("tr", {}, ...head.map(([label, num]) => el("th", { scope: "col", class: num ? "num" : undefined, text: label })))),
      el("tbody", {}, ...rows.map(row)),
      foot ? el("tfoot", {}, row(foot)) : null
    )
  }

  /**
   * columns: [{ key, label, type: "text"|"count"|"decimal", format?, title?, className? }]
   * Each header is a button (keyboard: Tab to it, Enter or Space); aria-sort says the order.
   * `footer` (optional) is a row of totals under the same columns, labelled "Total"; `before`
   * (optional) are rows shown above it in the foot, never sorted: [{ label, values, id? }] (a
   * month's adjustments for earlier months, so the total is the sum of the rows shown).
   */
  const sortableTable = (table, columns, rows, initial, footer, before = []) => {
    // The page's language: labels, number formats, text order.
    const { t, formatCount, decimalKey, compareText } = window.MaiLocale
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
    const text = (c, v) => (c.format ? c.format(v) : c.type === "count" ? formatCount(v) : String(v ?? ""))
    const classes = (first, c) => [first, c.className ?? ""].join(" ").trim()
    const render = () => {
      const col = columns.find((c) => c.key === sortKey)
      const sorted = [...rows].sort(compare(col))
      const head = el("tr")
      for (const c of columns) {
        const active = c.key === sortKey
        const th = el("th", {
          scope: "col",
          class: classes(c.type === "text" ? "" : "num", c) || undefined,
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
          const td = el("td", { class: classes(cellClass(c.type !== "text"), c), title: c.title ? c.title(v) : undefined })
          if (c.type === "text" && !c.format) td.append(...breakable(text(c, v)))
          else td.textContent = text(c, v)
          tr.append(td)
        }
        body.append(tr)
      }
      const parts = [el("thead", {}, head), body]
      if (footer) {
        const footRow = (label, values, attrs = {}) => {
          const tr = el("tr", attrs)
          columns.forEach((c, i) => {
            const v = values[c.key]
            tr.append(el("td", {
              class: classes(cellClass(i > 0), c),
              title: i > 0 && v !== undefined && c.title ? c.title(v) : undefined,
              text: i === 0 ? label : v === undefined ? "" : text(c, v)
            }))
          })
          return tr
        }
        parts.push(el("tfoot", {},
          ...before.map((b) => footRow(b.label, b.values, { class: "foot-part", id: b.id })),
          footRow(t("total"), footer, { class: "foot-total" })))
      }
      table.replaceChildren(...parts)
    }
    render()
  }

  return Object.freeze({ plainTable, sortableTable })
})()
