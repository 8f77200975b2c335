/**
 * The attacks of the security review, reproduced over real HTTP against the real app; each test
 * fails if its attack works again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, asAdmin, login, startApp, type TestApp } from "../support/app.js"

let app: TestApp
const COOKIE = "mai_session_default_0"

beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app.close())

describe("dashboard sessions", () => {
  it("the cookie holds a random session id, HttpOnly and SameSite=Strict, never the token", async () => {
    const { status, setCookie } = await login(app.url)
    expect(status).toBe(303)
    expect(setCookie).toMatch(new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{43}; `))
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Strict/)
    expect(setCookie).not.toMatch(/Secure/)
    expect(setCookie).not.toContain(ADMIN_TOKEN)
    const other = await login(app.url)
    expect(other.cookie).not.toBe((await login(app.url)).cookie) // a fresh id each time
  })

  it("is Secure behind an HTTPS proxy (X-Forwarded-Proto: https)", async () => {
    const { setCookie, status } = await login(app.url, ADMIN_TOKEN, {
      "x-forwarded-proto": "https",
      origin: `https://${new URL(app.url).host}`
    })
    expect(status).toBe(303)
    expect(setCookie).toMatch(/; Secure/)
  })

  it("logout ends the session on the server: the old cookie is refused afterwards", async () => {
    const { cookie } = await login(app.url)
    const today = () => fetch(app.url + "/api/v1/usage/today", { headers: { cookie: cookie! } })
    expect((await today()).status).toBe(200)
    const out = await fetch(app.url + "/logout", {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookie!, origin: new URL(app.url).origin }
    })
    expect(out.status).toBe(303)
    expect(out.headers.get("set-cookie")).toMatch(new RegExp(`^${COOKIE}=; Max-Age=0`))
    const after = await today()
    expect(after.status).toBe(401)
    expect(await after.json()).toEqual({ error: "the dashboard session has ended; log in again" })
  })
})

describe("state changes with the cookie", () => {
  const run = (headers: Record<string, string>) =>
    fetch(app.url + "/api/v1/admin/batch/run?date=2025-10-07", { method: "POST", headers })

  it("are refused from another port, from an opaque origin, and with no origin at all", async () => {
    const { cookie } = await login(app.url)
    const other = `http://127.0.0.1:${Number(new URL(app.url).port) + 1}`
    const attempts: Array<Record<string, string>> = [{ origin: other }, { origin: "null" }, { referer: other + "/attack.html" }, {}]
    for (const headers of attempts) {
      const res = await run({ cookie: cookie!, ...headers })
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(Object.keys((await res.json()) as object)).toEqual(["error"])
    }
    const runs = await (await fetch(app.url + "/api/v1/admin/batch/runs", asAdmin)).json() as any
    expect(runs.runs).toEqual([])
  })

  it("pass from the dashboard's own origin; a bearer request needs no origin", async () => {
    const { cookie } = await login(app.url)
    expect((await run({ cookie: cookie!, origin: new URL(app.url).origin })).status).not.toBe(403)
    expect((await run({ cookie: cookie!, referer: app.url + "/" })).status).not.toBe(403)
    expect((await run({ authorization: `Bearer ${ADMIN_TOKEN}` })).status).not.toBe(403)
  })
})

describe("credentials that must never authenticate", () => {
  it.each([
    ["an empty Authorization header", { authorization: "" }],
    ["an empty bearer", { authorization: "Bearer " }],
    ["the token as a cookie", { cookie: `${COOKIE}=${ADMIN_TOKEN}` }],
    ["an empty cookie", { cookie: `${COOKIE}=` }]
  ])("%s → 401 with {\"error\"}", async (_, headers) => {
    const res = await fetch(app.url + "/api/v1/usage/today", { headers })
    expect(res.status).toBe(401)
    const body = await res.json() as any
    expect(Object.keys(body)).toEqual(["error"])
    expect(body.error).toMatch(/\S/)
  })
})

describe("failed logins", () => {
  it("200 concurrent wrong attempts: 5 are judged, the rest get 429 with Retry-After; even the right token waits", async () => {
    const one = () =>
      fetch(app.url + "/login", {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(app.url).origin },
        body: "token=wrong-guess-0123456789"
      })
    const answers = await Promise.all(Array.from({ length: 200 }, one))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(195)
    const limited = answers.find((r) => r.status === 429)!
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    const right = await login(app.url)
    expect(right.status).toBe(429)
    expect(right.setCookie).toBeUndefined()
  })
})

describe("bodies", () => {
  it("a login body over 4 KiB is refused with 413 before it is read", async () => {
    const res = await fetch(app.url + "/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=" + "a".repeat(5000)
    })
    expect(res.status).toBe(413)
    expect((await res.json() as any).error).toMatch(/at most 4096 bytes/)
  })

  it("an API body over 64 KiB is refused with 413", async () => {
    const res = await fetch(app.url + "/api/v1/admin/batch/run?date=2025-10-07", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(70_000) })
    })
    expect(res.status).toBe(413)
  })
})

describe("/ready", () => {
  it("shows names and statuses only without admin authentication, details with the bearer", async () => {
    const quiet = await (await fetch(app.url + "/ready")).json() as any
    const full = await (await fetch(app.url + "/ready", asAdmin)).json() as any
    expect(Object.keys(quiet.checks)).toEqual(Object.keys(full.checks))
    for (const check of Object.values<any>(quiet.checks)) {
      expect(Object.keys(check).every((k) => k === "ok" || k === "status")).toBe(true)
    }
    expect(JSON.stringify(full).length).toBeGreaterThan(JSON.stringify(quiet).length)
  })
})
