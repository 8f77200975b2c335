// mai-usage pages: building the DOM. A classic script loaded before the page's own:
//   const { el, svg, breakable } = window.MaiDom
"use strict"

window.MaiDom = (() => {
  /**
   * `el("td", { class: "num", text: "5", onclick: f }, ...children)`: attributes that are
   * undefined, null or false are left out, `true` is an empty attribute, `on…` a listener.
   */
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

  /**
   * A name (an e-mail, a model id) with break opportunities after "@", ".", "/", "-" and "_", so a
   * narrow column wraps it there rather than in the middle of a word.
   */
  const breakable = (text) => {
    const parts = String(text).split(/(?<=[@./_-])/)
    return parts.flatMap((p, i) => (i === 0 ? [p] : [document.createElement("wbr"), p]))
  }

  return Object.freeze({ el, svg, breakable })
})()
