/**
 * The cross-port CSRF attack, reproduced in a real Chromium: an attacker's page on another port
 * of the same host (another client's container, say) auto-posts a form to the admin API. Every
 * port of a host is the same *site*, so SameSite=Strict still sends the session cookie; the
 * same-origin check must refuse it. The dashboard's own page can still change state.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, startApp, type TestApp } from "../support/app.js"
import { launchChromium, loggedInPage, type OfflineContext, offlineContext } from "../support/chromium.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"

let browser: Browser
let nbp: NbpStandIn
let app: TestApp
let attacker: { url: string; close: () => Promise<void>; pages: Map<string, string> }

const bearer = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }
const runs = async () => ((await (await fetch(app.url + "/api/v1/admin/batch/runs", bearer)).json()) as any).runs as Array<unknown>

/** A plain server on another port of 127.0.0.1 serving the attacker's pages. */
const startAttacker = () =>
  new Promise<typeof attacker>((resolve) => {
    const pages = new Map<string, string>()
    const server = Http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(pages.get(req.url ?? "") ?? "")
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({ url: `http://127.0.0.1:${port}`, pages, close: () => new Promise((r) => server.close(() => r())) })
    })
  })

const autoPost = (action: string, head = "") =>
  `<!doctype html><html><head>${head}</head><body>
<form id="f" method="post" action="${action}"><input name="x" value="1"></form>
<script>document.getElementById("f").submit()</script></body></html>`

const loggedIn = async (): Promise<OfflineContext> => {
  const ctx = await offlineContext(browser, app.url, { alsoAllow: [attacker.url] })
  const page = await loggedInPage(ctx, app.url)
  await page.locator("#month").waitFor()
  await page.close()
  return ctx
}

beforeAll(async () => {
  ;[browser, nbp, attacker] = await Promise.all([launchChromium(), startNbpStandIn(), startAttacker()])
  app = await startApp({ NBP_API_URL: nbp.url })
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await nbp?.close()
  await attacker?.close()
})

describe("a form auto-posted from another port of the same host", () => {
  it("reaches the app with the session cookie, and is refused: no batch run happens", async () => {
    const ctx = await loggedIn()
    const page = await ctx.context.newPage()
    attacker.pages.set("/run", autoPost(`${app.url}/api/v1/admin/batch/run?date=2025-10-07`))
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/api/v1/admin/batch/run")),
      page.goto(attacker.url + "/run")
    ])
    // 403, not 401: the cookie did travel with the forged request (same site), and was refused.
    expect(response.status()).toBe(403)
    expect(response.request().headers()["origin"]).toBe(attacker.url)
    expect(await response.json()).toEqual({ error: expect.stringMatching(/must come from the dashboard's own page/) })
    expect(await runs()).toEqual([])

    // The same with the attacker's referrer hidden (`Origin: null`, no Referer).
    attacker.pages.set("/quiet", autoPost(`${app.url}/api/v1/admin/batch/run?date=2025-10-07`, `<meta name="referrer" content="no-referrer">`))
    const [quiet] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/api/v1/admin/batch/run")),
      page.goto(attacker.url + "/quiet")
    ])
    expect(quiet.status()).toBe(403)
    expect(await runs()).toEqual([])
    await ctx.context.close()
  })

  it("cannot log the user out either", async () => {
    const ctx = await loggedIn()
    const page = await ctx.context.newPage()
    attacker.pages.set("/logout", autoPost(`${app.url}/logout`))
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === app.url + "/logout"),
      page.goto(attacker.url + "/logout")
    ])
    expect(response.status()).toBe(403)
    const [cookie] = await ctx.context.cookies(app.url)
    const still = await fetch(app.url + "/api/v1/usage/today", { headers: { cookie: `${cookie.name}=${cookie.value}` } })
    expect(still.status).toBe(200)
    await ctx.context.close()
  })
})

describe("the dashboard's own page", () => {
  it("changes state with its session: a POST from the page itself is accepted", async () => {
    const ctx = await loggedIn()
    const page = await ctx.context.newPage()
    await page.goto(app.url + "/")
    const status = await page.evaluate(async () => {
      const res = await fetch("/api/v1/admin/batch/run?date=2025-10-07", { method: "POST", credentials: "same-origin" })
      return res.status
    })
    expect(status).toBe(200)
    expect(await runs()).toHaveLength(1)
    await ctx.context.close()
  })
})
