// mai-usage dashboard: reading the JSON API (same origin, the HttpOnly session cookie goes along)
// and saying so when it fails. A classic script loaded after locale.js and dom.js:
//   const { getJson, showError } = window.MaiApi
"use strict"

window.MaiApi = (() => {
  const { t } = window.MaiLocale
  const { el } = window.MaiDom

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

  /** The error in `target`, with a link to log in again or (when given) a retry button. */
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

  return Object.freeze({ ApiError, getJson, showError })
})()
