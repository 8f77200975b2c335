// Renders /api/v1/openapi.json as a readable page, without any third-party viewer (no CDN).
// Loaded after dom.js.
"use strict"

const root = document.getElementById("docs")
const { el } = window.MaiDom

const refName = (ref) => ref.split("/").pop()

/** A compact text form of a JSON schema: `{ date: string, rows: DailyRow[] }`. */
const describe = (schema, depth = 0) => {
  if (!schema) return "any"
  if (schema.$ref) return refName(schema.$ref)
  if (schema.anyOf) return schema.anyOf.map((s) => describe(s, depth)).join(" | ")
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ")
  if (schema.type === "array") return `${describe(schema.items, depth)}[]`
  if (schema.type === "object" && schema.properties) {
    if (depth > 1) return "object"
    const required = new Set(schema.required ?? [])
    const fields = Object.entries(schema.properties).map(([k, v]) => `${k}${required.has(k) ? "" : "?"}: ${describe(v, depth + 1)}`)
    return `{ ${fields.join(", ")} }`
  }
  if (schema.type === "null") return "null"
  return schema.type ?? "any"
}

const render = (spec) => {
  const parts = [el("p", { text: spec.info?.description ?? "" })]
  parts.push(el("p", {
    class: "small",
    text: "Authentication: Authorization: Bearer <ADMIN_TOKEN> (or the dashboard's session cookie). " +
      "Lists are also served as CSV with Accept: text/csv or ?format=csv."
  }))
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const section = el("section", { class: "op" })
      section.append(el("h2", {}, el("span", { class: "method", text: method }), el("code", { text: path })))
      if (op.description) section.append(el("p", { text: op.description }))
      if (op.parameters?.length) {
        const table = el("table")
        table.append(el("thead", {}, el("tr", {}, ...["Parameter", "In", "Required", "Type"].map((h) => el("th", { scope: "col", text: h })))))
        const body = el("tbody")
        for (const p of op.parameters) {
          body.append(el("tr", {},
            el("td", {}, el("code", { text: p.name })),
            el("td", { text: p.in }),
            el("td", { text: p.required ? "yes" : "no" }),
            el("td", { text: describe(p.schema) + (p.description ? ` — ${p.description}` : "") })))
        }
        table.append(body)
        section.append(el("div", { class: "scroll" }, table))
      }
      const list = el("ul")
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const types = Object.entries(response.content ?? {}).map(([type, c]) => `${type}: ${describe(c.schema)}`)
        list.append(el("li", {}, el("strong", { text: status }), ` ${response.description ?? ""}${types.length ? " — " + types.join("; ") : ""}`))
      }
      section.append(list)
      parts.push(section)
    }
  }
  const schemas = spec.components?.schemas ?? {}
  if (Object.keys(schemas).length > 0) {
    const section = el("section", { class: "op" }, el("h2", { text: "Schemas" }))
    for (const [name, schema] of Object.entries(schemas)) {
      const details = el("details", {}, el("summary", {}, el("code", { text: name }), schema.description ? ` — ${schema.description}` : ""))
      details.append(el("pre", { text: JSON.stringify(schema, null, 2) }))
      section.append(details)
    }
    parts.push(section)
  }
  root.replaceChildren(...parts)
}

fetch("/api/v1/openapi.json")
  .then((res) => {
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return res.json()
  })
  .then(render)
  .catch((e) => root.replaceChildren(el("p", { class: "alert error", role: "alert", text: `Cannot load the API description: ${e.message}` })))
