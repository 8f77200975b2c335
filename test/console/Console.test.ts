/**
 * The reseller's console end to end: three real app processes (the production build, real SQLite,
 * real webhook deliveries, real batch runs at the NBP stand-in's rates) and one registered client
 * that is down, then `mai-usage console` over their clients.json. Through the console's API and in
 * Chromium (1400 and 390 px, Polish and English):
 * - each client's month figures are the ones its own API gives, the totals are the sums of the
 *   rows, and the margin is billed minus OpenRouter's cost at the same rates, exactly;
 * - the client that is down shows as unreachable, with why, while the others render;
 * - closing two clients closes exactly those two; a refusal names its days;
 * - the month's ZIP holds each closed client's statement PDF and CSV and an FA(3) draft that
 *   validates against the XSD;
 * - no client admin token appears in any page, answer, archive or log line;
 * - the registry follows clients.json when it changes.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { BigDecimal, Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import yauzl from "yauzl"
import { makeClient } from "../../src/api/Client.js"
import { launchChromium, loggedInPage, offlineContext, screenshotDir } from "../support/chromium.js"
import { requireXmllint, validateFa3 } from "../support/fa3.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"
import { bareEnv, freePort, type Running, spawnCli, startServeProcess, waitForHealth } from "../support/process.js"
import { tempDir } from "../support/tmp.js"
import { postWebhook } from "../support/app.js"

const MONTH = "2025-11"
const CONSOLE_TOKEN = "console-admin-token-0123456789abcdef"
const PARTIES = {
  RESELLER_NAME: "Reseller Alfa sp. z o.o.",
  RESELLER_NIP: "1234563218",
  RESELLER_ADDRESS: "ul. Żółwia 3/5, 02-601 Warszawa",
  CLIENT_NAME: "Klient sp. z o.o.",
  CLIENT_NIP: "7010013284",
  CLIENT_ADDRESS: "ul. Prosta 20, 00-850 Warszawa"
}

interface AppProcess {
  readonly id: string
  readonly token: string
  readonly url: string
  readonly port: number
  readonly stop: () => Promise<void>
  readonly logs: () => string
}

const clients: Array<AppProcess> = []
let nbp: NbpStandIn
let consoleProcess: Running
let consoleUrl: string
let clientsFile: string
let downPort: number
let browser: Browser
/** Every body the console sent, to the test or to the browser. */
const seen: Array<string> = []

const tokenOf = (id: string) => `${id}-admin-token-${"x".repeat(8)}-0123456789`

const api = <A, E>(c: AppProcess, f: (client: Effect.Effect.Success<ReturnType<typeof makeClient>>) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.flatMap(makeClient(c.url, c.token), f).pipe(Effect.provide(FetchHttpClient.layer)))

const consoleFetch = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(consoleUrl + path, { ...init, headers: { authorization: `Bearer ${CONSOLE_TOKEN}`, ...(init.headers ?? {}) } })
  const buffer = Buffer.from(await res.arrayBuffer())
  seen.push(buffer.toString("latin1"))
  return { status: res.status, headers: res.headers, buffer, text: buffer.toString("utf8") }
}
const consoleJson = async (path: string, init: RequestInit = {}) => {
  const r = await consoleFetch(path, init)
  return { status: r.status, body: JSON.parse(r.text) }
}

const events: Record<string, ReadonlyArray<{ at: string; cost: string; user: string; model: string }>> = {
  alfa: [
    { at: "2025-11-03T09:00:00.000Z", cost: "0.123457", user: "anna", model: "m/one" },
    { at: "2025-11-14T10:00:00.000Z", cost: "1.000001", user: "bob", model: "m/two" }
  ],
  beta: [
    { at: "2025-11-05T12:00:00.000Z", cost: "2.718281", user: "cyd", model: "m/one" },
    { at: "2025-11-25T12:00:00.000Z", cost: "0.333333", user: "cyd", model: "m/three" }
  ],
  gamma: [{ at: "2025-11-10T08:00:00.000Z", cost: "0.5", user: "dan", model: "m/one" }]
}

const writeClients = (extra: ReadonlyArray<object> = []) =>
  Fs.writeFileSync(clientsFile, JSON.stringify({
    imageVersion: "1.0.0",
    clients: [
      ...clients.map((c) => ({ id: c.id, orgId: c.id, port: c.port, adminToken: c.token })),
      { id: "down", orgId: "down", port: downPort, adminToken: tokenOf("down") },
      ...extra
    ]
  }, null, 2))

const allTokens = () => [...clients.map((c) => c.token), tokenOf("down"), tokenOf("late")]

beforeAll(async () => {
  requireXmllint()
  nbp = await startNbpStandIn({ today: "2025-11-30" })
  for (const id of ["alfa", "beta", "gamma"]) {
    const token = tokenOf(id)
    const app = await startServeProcess({ ADMIN_TOKEN: token, CLIENT_ORG_ID: id, NBP_API_URL: nbp.url, ...PARTIES })
    clients.push({ id, token, url: app.url, port: app.port, stop: app.stop, logs: () => app.server.stdout() + app.server.stderr() })
  }
  for (const c of clients) {
    for (const [i, e] of events[c.id].entries()) {
      expect((await postWebhook(c.url, deliveryOf({ id: `${c.id}-gen-${i}`, ...e }))).status).toBe(200)
    }
    // gamma's batch ran only to the 20th: its month cannot be closed.
    const to = c.id === "gamma" ? "2025-11-20" : "2025-11-30"
    const res = await fetch(`${c.url}/api/v1/admin/batch/run?from=2025-11-01&to=${to}`, { method: "POST", headers: { authorization: `Bearer ${c.token}` } })
    expect(res.status).toBe(200)
  }
  downPort = await freePort()
  const dir = tempDir()
  clientsFile = Path.join(dir, "clients.json")
  writeClients()
  const port = await freePort()
  consoleUrl = `http://127.0.0.1:${port}`
  consoleProcess = spawnCli(["console"], {
    ...bareEnv(),
    CONSOLE_PORT: String(port),
    CONSOLE_HOST: "127.0.0.1",
    CONSOLE_CLIENTS: clientsFile,
    CONSOLE_ADMIN_TOKEN: CONSOLE_TOKEN,
    DATA_DIR: Path.join(dir, "console")
  })
  await waitForHealth(consoleUrl, consoleProcess, 30_000)
  browser = await launchChromium()
}, 240_000)

afterAll(async () => {
  await browser?.close()
  if (consoleProcess !== undefined && consoleProcess.child.exitCode === null) {
    consoleProcess.child.kill("SIGTERM")
    await consoleProcess.exited
  }
  for (const c of clients) await c.stop()
  await nbp?.close()
})

const dec = BigDecimal.unsafeFromString
const sum = (xs: ReadonlyArray<string>) => xs.reduce((s, x) => BigDecimal.sum(s, dec(x)), BigDecimal.fromBigInt(0n))
const eq = (a: string, b: BigDecimal.BigDecimal) => BigDecimal.equals(dec(a), b)

/** The page's PLN: "1 234,56 zł" (Polish, no-break spaces) or "PLN 1,234.56". */
const plnShown = (text: string, lang: "pl" | "en") => {
  const [int, frac] = text.replace("-", "").split(".")
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, lang === "pl" ? "\u00a0" : ",")
  const body = (text.startsWith("-") ? "\u2212" : "") + grouped + (lang === "pl" ? "," : ".") + frac
  return lang === "pl" ? `${body}\u00a0zł` : `PLN\u00a0${body}`
}

describe("the console's fleet", () => {
  it("gives each client's month as its own API does, the totals as the rows' sums, the margin exactly", async () => {
    const { body, status } = await consoleJson(`/api/fleet?month=${MONTH}`)
    expect(status).toBe(200)
    expect(body.rows.map((r: any) => r.id)).toEqual(["alfa", "beta", "gamma", "down"])
    for (const c of clients) {
      const row = body.rows.find((r: any) => r.id === c.id)
      expect(row.status).toBe("ok")
      const own = await fetch(`${c.url}/api/v1/admin/overview/${MONTH}`, { headers: { authorization: `Bearer ${c.token}` } })
      expect(row.overview).toEqual(await own.json())
      // …and the client's own month summary and daily rows agree with it.
      const [summary, daily] = await api(c, (a) =>
        Effect.all([a.usage.summary({ urlParams: { month: MONTH } }), a.usage.daily({ urlParams: { from: "2025-11-01", to: "2025-11-30" } })]))
      expect(row.overview.billedPln).toBe(summary.totals.costPln)
      expect(row.overview.billedUsd).toBe(summary.totals.costUsd)
      const cost = daily.rows.reduce(
        (s, r) => BigDecimal.sum(s, BigDecimal.round(BigDecimal.multiply(dec(r.costUsd), dec(r.rate)), { scale: 2, mode: "half-from-zero" })),
        BigDecimal.fromBigInt(0n)
      )
      expect(eq(row.overview.openRouterPln, cost)).toBe(true)
      expect(eq(row.overview.marginPln, BigDecimal.subtract(dec(row.overview.billedPln), dec(row.overview.openRouterPln)))).toBe(true)
      expect(BigDecimal.greaterThan(dec(row.overview.marginPln), BigDecimal.fromBigInt(0n))).toBe(true)
    }
    expect(body.rows.find((r: any) => r.id === "gamma").overview.state).toMatchObject({ status: "open", closable: false })
    expect(body.rows.find((r: any) => r.id === "alfa").overview.state).toMatchObject({ status: "open", closable: true })

    const down = body.rows.find((r: any) => r.id === "down")
    expect(down).toMatchObject({ status: "unreachable", reason: "connection", overview: null })
    expect(down.error).toContain("ECONNREFUSED")

    const ok = body.rows.filter((r: any) => r.overview !== null).map((r: any) => r.overview)
    for (const key of ["billedPln", "billedUsd", "openRouterPln", "marginPln"]) {
      expect(eq(body.totals[key], sum(ok.map((o: any) => o[key])))).toBe(true)
    }
    expect(eq(body.totals.marginPln, BigDecimal.subtract(dec(body.totals.billedPln), dec(body.totals.openRouterPln)))).toBe(true)
    expect(body.totals).toMatchObject({ clients: 4, ok: 3, notOk: 1, requests: 5 })

    // The same through the stream the page reads: the start, one line per client, the totals.
    const stream = await consoleFetch(`/api/fleet?month=${MONTH}&format=ndjson`)
    const lines = stream.text.trim().split("\n").map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({ type: "start", total: 4 })
    expect(lines.filter((l) => l.type === "row").map((l) => l.row.id).sort()).toEqual(["alfa", "beta", "down", "gamma"])
    expect(lines[lines.length - 1]).toEqual({ type: "done", totals: body.totals })

    // CSV, both dialects: one line per client and the totals.
    const csv = await consoleFetch(`/api/fleet.csv?month=${MONTH}`)
    const csvLines = csv.text.trim().split("\r\n")
    expect(csvLines).toHaveLength(6)
    expect(csvLines[5].startsWith(`TOTAL,,,,${body.totals.billedPln},${body.totals.billedUsd},`)).toBe(true)
    const excel = await consoleFetch(`/api/fleet.csv?month=${MONTH}&dialect=excel-pl`)
    expect(excel.text.startsWith("\uFEFFclient;orgId;")).toBe(true)
    expect(excel.text).toContain(`TOTAL;;;;${body.totals.billedPln.replace(".", ",")};`)
  })

  it("needs its own token: no answer without it, and a client's token is not it", async () => {
    expect((await fetch(`${consoleUrl}/api/fleet?month=${MONTH}`)).status).toBe(401)
    const wrong = await fetch(`${consoleUrl}/api/fleet?month=${MONTH}`, { headers: { authorization: `Bearer ${clients[0].token}` } })
    expect(wrong.status).toBe(401)
    seen.push(await wrong.text())
    const big = await fetch(`${consoleUrl}/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "token=" + "a".repeat(5000) })
    expect(big.status).toBe(413)
  })

  it("shows the fleet in Chromium at 1400 and 390 px, Polish and English, the down client unreachable", async () => {
    const { body } = await consoleJson(`/api/fleet?month=${MONTH}`)
    for (const [lang, width] of [["pl", 1400], ["en", 1400], ["pl", 390], ["en", 390]] as const) {
      const ctx = await offlineContext(browser, consoleUrl, { viewport: { width, height: width === 390 ? 844 : 900 } })
      ctx.context.on("response", async (r) => void seen.push(await r.text().catch(() => "")))
      const page = await loggedInPage(ctx, consoleUrl, CONSOLE_TOKEN)
      await page.goto(`${consoleUrl}/?month=${MONTH}${lang === "en" ? "&lang=en" : ""}`)
      await page.locator("#status[data-state=done]").waitFor()
      expect(await page.locator("html").getAttribute("lang")).toBe(lang)
      expect(await page.locator("h1").textContent()).toBe(lang === "pl" ? "Klienci w miesiącu" : "Clients in the month")
      for (const c of clients) {
        const row = body.rows.find((r: any) => r.id === c.id)
        const tr = page.locator(`tr[data-client="${c.id}"]`)
        expect(await tr.locator("td.billed").textContent()).toBe(plnShown(row.overview.billedPln, lang))
        expect(await tr.locator("td.margin").textContent()).toBe(plnShown(row.overview.marginPln, lang))
      }
      const down = page.locator(`tr[data-client="down"][data-status="unreachable"]`)
      expect(await down.textContent()).toContain(lang === "pl" ? "nieosiągalny" : "unreachable")
      expect(await down.textContent()).toContain(lang === "pl" ? "brak połączenia" : "no connection")
      expect(await down.textContent()).toContain("ECONNREFUSED")
      expect(await page.locator("#totals td.billed").textContent()).toBe(plnShown(body.totals.billedPln, lang))
      if (width === 390) {
        // A client's row is a card: no header row, each value beside its label, nothing wider than the screen.
        expect(await page.locator("#fleet thead").isVisible()).toBe(false)
        expect(await page.locator(`tr[data-client="alfa"]`).evaluate((e) => (globalThis as any).getComputedStyle(e).display as string)).toBe("block")
        expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390)
      } else {
        // Sorting by billed PLN, descending, puts the largest first; the filter narrows the rows.
        await page.locator(`th[data-sort="billedPln"]`).click()
        await page.locator(`th[data-sort="billedPln"]`).click()
        const order = [...body.rows].filter((r: any) => r.overview !== null)
          .sort((a: any, b: any) => Number(b.overview.billedPln) - Number(a.overview.billedPln)).map((r: any) => r.id)
        expect(await page.locator("#fleet tbody tr").evaluateAll((trs) => trs.map((t) => t.getAttribute("data-client")))).toEqual([...order, "down"])
        await page.locator("#filter").fill("gam")
        expect(await page.locator("#fleet tbody tr").count()).toBe(1)
        await page.locator("#filter").fill("")
      }
      await page.screenshot({ path: Path.join(screenshotDir(), `console-fleet-${lang}-${width}.png`), fullPage: true })
      seen.push(await page.content())
      expect(ctx.blocked).toEqual([])
      await ctx.context.close()
    }
  })
})

const readZip = (buffer: Buffer) =>
  new Promise<Map<string, Buffer>>((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err)
      const out = new Map<string, Buffer>()
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e)
          const chunks: Array<Buffer> = []
          stream.on("data", (c: Buffer) => chunks.push(c))
          stream.on("end", () => {
            out.set(entry.fileName, Buffer.concat(chunks))
            zip.readEntry()
          })
        })
      })
      zip.on("end", () => resolve(out))
      zip.on("error", reject)
      zip.readEntry()
    })
  })

describe("the console's actions", () => {
  it("closes exactly the two clients selected in Chromium; a refusal names its days", async () => {
    const ctx = await offlineContext(browser, consoleUrl, { viewport: { width: 1400, height: 900 } })
    ctx.context.on("response", async (r) => void seen.push(await r.text().catch(() => "")))
    const page = await loggedInPage(ctx, consoleUrl, CONSOLE_TOKEN)
    await page.goto(`${consoleUrl}/?month=${MONTH}&lang=en`)
    await page.locator("#status[data-state=done]").waitFor()
    await page.locator(`tr[data-client="alfa"] input.pick`).check()
    await page.locator(`tr[data-client="beta"] input.pick`).check()
    await page.locator("#close").click()
    await page.locator(`#close-results li[data-client="beta"]`).waitFor()
    expect(await page.locator(`#close-results li.ok`).evaluateAll((lis) => lis.map((l) => l.getAttribute("data-client")))).toEqual(["alfa", "beta"])
    await page.locator("#status[data-state=done]").waitFor()
    expect(await page.locator(`tr[data-client="alfa"] td.state`).textContent()).toMatch(/^closed /)
    await page.screenshot({ path: Path.join(screenshotDir(), "console-closed-en-1400.png"), fullPage: true })
    await ctx.context.close()

    // Each client's own API: alfa and beta closed (through the API), gamma untouched.
    for (const c of clients) {
      const months = await api(c, (a) => a.months.list())
      expect(months.closed.map((m) => [m.month, m.closedBy])).toEqual(c.id === "gamma" ? [] : [[MONTH, "api"]])
    }

    const refused = await consoleJson("/api/close", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ month: MONTH, clients: ["gamma", "down"] })
    })
    expect(refused.status).toBe(200)
    const gamma = refused.body.results.find((r: any) => r.id === "gamma")
    expect(gamma.ok).toBe(false)
    expect(gamma.error).toContain("no successful batch run for 2025-11-21 to 2025-11-30")
    expect(refused.body.results.find((r: any) => r.id === "down")).toMatchObject({ ok: false })

    // A state change by cookie from another origin is refused (CSRF), and nothing closes.
    const login = await fetch(`${consoleUrl}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: consoleUrl },
      body: `token=${CONSOLE_TOKEN}`
    })
    const cookie = login.headers.get("set-cookie")!.split(";")[0]
    const forged = await fetch(`${consoleUrl}/api/close`, {
      method: "POST",
      headers: { cookie, origin: "http://127.0.0.1:1", "content-type": "application/json" },
      body: JSON.stringify({ month: MONTH, clients: ["gamma"] })
    })
    expect(forged.status).toBe(403)
  })

  it("downloads the month's documents as one ZIP: each closed client's statement PDF and CSV and a valid FA(3) draft", async () => {
    const started = await consoleJson("/api/archives", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ month: MONTH })
    })
    expect(started.status).toBe(202)
    let progress = started.body
    while (progress.state === "running") {
      await new Promise((r) => setTimeout(r, 200))
      progress = (await consoleJson(`/api/archives/${progress.id}`)).body
    }
    expect(progress).toMatchObject({ state: "done", total: 4, done: 4, files: 6 })
    expect([...progress.included].sort()).toEqual(["alfa", "beta"])
    expect(progress.skipped.map((s: any) => s.id).sort()).toEqual(["down", "gamma"])

    const zip = await consoleFetch(`/api/archives/${progress.id}/zip`)
    expect(zip.headers.get("content-type")).toBe("application/zip")
    const entries = await readZip(zip.buffer)
    for (const c of clients.filter((c) => c.id !== "gamma")) {
      const base = `${c.id}/mai-usage_${c.id}`
      const pdf = entries.get(`${base}_statement_${MONTH}.pdf`)!
      expect(pdf.subarray(0, 5).toString()).toBe("%PDF-")
      const ownCsv = await (await fetch(`${c.url}/api/v1/statements/${MONTH}?format=csv&lang=en`, { headers: { authorization: `Bearer ${c.token}` } })).text()
      expect(entries.get(`${base}_statement_${MONTH}.csv`)!.toString("utf8")).toBe(ownCsv)
      const xml = entries.get(`${base}_FA3_${MONTH}.xml`)!.toString("utf8")
      const valid = validateFa3(xml)
      expect(valid.output).toContain("validates")
      expect(valid.code).toBe(0)
    }
    expect([...entries.keys()].filter((k) => k.startsWith("gamma/") || k.startsWith("down/"))).toEqual([])
    const readme = entries.get("README.txt")!.toString("utf8")
    expect(readme).toContain("gamma: 2025-11 is not closed")
    for (const e of entries.values()) seen.push(e.toString("latin1"))
  })

  it("the Chromium page builds the ZIP with its progress and offers it for download", async () => {
    const ctx = await offlineContext(browser, consoleUrl, { viewport: { width: 390, height: 844 } })
    ctx.context.on("response", async (r) => void seen.push(await r.text().catch(() => "")))
    const page = await loggedInPage(ctx, consoleUrl, CONSOLE_TOKEN)
    await page.goto(`${consoleUrl}/?month=${MONTH}`)
    await page.locator("#status[data-state=done]").waitFor()
    await page.locator("#zip").click()
    await page.locator("#zip-link:not([hidden])").waitFor()
    expect(await page.locator("#zip-status").textContent()).toBe("Archiwum gotowe: 2 klientów, pominięto 2.")
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#zip-link").click()])
    const file = await download.path()
    const entries = await readZip(Fs.readFileSync(file!))
    expect(entries.has(`alfa/mai-usage_alfa_FA3_${MONTH}.xml`)).toBe(true)
    await page.screenshot({ path: Path.join(screenshotDir(), "console-zip-pl-390.png"), fullPage: true })
    await ctx.context.close()
  })
})

describe("the registry", () => {
  it("follows clients.json when it changes", async () => {
    writeClients([{ id: "late", orgId: "late", port: await freePort(), adminToken: tokenOf("late") }])
    const deadline = Date.now() + 10_000
    let ids: Array<string> = []
    while (Date.now() < deadline) {
      ids = (await consoleJson(`/api/fleet?month=${MONTH}`)).body.rows.map((r: any) => r.id)
      if (ids.includes("late")) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(ids).toEqual(["alfa", "beta", "gamma", "down", "late"])
    // A file that no longer parses keeps the last good registry and says why.
    Fs.writeFileSync(clientsFile, "{ not json")
    let error: string | null = null
    while (Date.now() < deadline + 10_000) {
      const body = (await consoleJson(`/api/fleet?month=${MONTH}`)).body
      error = body.registryError
      if (error !== null) {
        expect(body.rows).toHaveLength(5)
        break
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(error).toContain("is not valid JSON")
  })
})

describe("client tokens", () => {
  it("appear in no page, answer, archive or log line of the console", async () => {
    consoleProcess.child.kill("SIGTERM")
    expect(await consoleProcess.exited).toBe(0)
    const everything = [...seen, consoleProcess.stdout(), consoleProcess.stderr()].join("\n")
    expect(seen.length).toBeGreaterThan(20)
    for (const token of allTokens()) expect(everything.includes(token)).toBe(false)
    expect(consoleProcess.stdout()).toContain("registry loaded")
  })
})
