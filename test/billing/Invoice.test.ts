/**
 * The FA(3) invoice draft end to end, over the real app (real HTTP, real SQLite, the NBP stand-in
 * serving NBP's real tables) and the real CLI: a November with two markups (1.3, then 1.45 from
 * the 15th), several models and an adjustment for a closed October. Every draft validates against
 * the official XSD with xmllint (offline, through the catalog); its figures are recomputed here
 * with integers from the events themselves: the lines add up to the closed statement's total PLN
 * to the grosz, VAT is exact (on the total, half up), gross = net + VAT. An open month, a party's
 * NIP not configured and a NIP with a wrong check digit are refused.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { grosze, invoiceLines, plnOf, requireXmllint, text, texts, validateFa3, vatOf } from "../support/fa3.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { deliveryOf } from "../support/otlp.js"
import { bareEnv, runCli } from "../support/process.js"
import { previousTable } from "../support/summarySeed.js"

const GPT = "openai/gpt-4o"
const HAIKU = "anthropic/claude-haiku-4.5"
const GEMINI = "google/gemini-2.5-pro"
const ANNA = "anna.kowalska@example.pl"
const LUKASZ = "Łukasz Żółć"

const PARTIES = {
  CLIENT_ORG_ID: "acme",
  RESELLER_NAME: "Reseller „Alfa” sp. z o.o.",
  RESELLER_NIP: "1234563218",
  RESELLER_ADDRESS: "ul. Żółwia 3/5, 02-601 Warszawa",
  CLIENT_NAME: "ACME sp. z o.o.",
  CLIENT_NIP: "7010013284",
  CLIENT_ADDRESS: "ul. Prosta 20, 00-850 Warszawa"
}

interface Ev {
  readonly at: string
  readonly user: string
  readonly model: string
  readonly cost: string
}

const OCTOBER: ReadonlyArray<Ev> = [
  { at: "2025-10-06T09:00:00.000Z", user: ANNA, model: GPT, cost: "1.234567891" },
  { at: "2025-10-26T12:00:00.000Z", user: LUKASZ, model: HAIKU, cost: "0.987654321" }
]
/** November: 1.3 until the 14th, 1.45 from the 15th; 62.5 USD × 1.45 × 3.6624 is an exact half grosz. */
const NOVEMBER: ReadonlyArray<Ev> = [
  { at: "2025-11-03T08:00:00.000Z", user: ANNA, model: GPT, cost: "2.718281828" },
  { at: "2025-11-03T09:00:00.000Z", user: LUKASZ, model: HAIKU, cost: "3.141592653" },
  { at: "2025-11-14T22:59:59.999Z", user: LUKASZ, model: HAIKU, cost: "0.045" },
  { at: "2025-11-14T23:00:00.000Z", user: LUKASZ, model: HAIKU, cost: "0.045" },
  { at: "2025-11-20T10:00:00.000Z", user: ANNA, model: GEMINI, cost: "7.777777777" },
  { at: "2025-11-30T12:00:00.000Z", user: ANNA, model: GPT, cost: "62.5" }
]
/** Arrives after October was closed: an adjustment booked into November. */
const LATE: Ev = { at: "2025-10-26T15:00:00.000Z", user: LUKASZ, model: HAIKU, cost: "0.4444444445" }

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
let nbp: NbpStandIn
let app: TestApp | undefined
let dataDir: string
let seq = 0

const url = () => app!.url
const send = async (e: Ev) => {
  const res = await postWebhook(url(), deliveryOf({ id: `gen-invoice-${++seq}`, ...e }))
  expect(res.status).toBe(200)
}
const post = async (path: string) => {
  const res = await fetch(url() + path, { method: "POST", headers: admin })
  const body = await res.text()
  expect(res.status, body).toBe(200)
  return JSON.parse(body)
}
const json = async (path: string) => {
  const res = await fetch(url() + path, { headers: admin })
  expect(res.status).toBe(200)
  return (await res.json()) as any
}
const invoice = (month: string, query = "") => fetch(`${url()}/api/v1/invoices/${month}/fa3.xml${query}`, { headers: admin })
const cliEnv = (vars: Record<string, string> = {}) => ({ ...bareEnv(), ...app!.vars, DATA_DIR: dataDir, ...vars })

// ---------------------------------------------------------------------------------------------
// The month recomputed from the events, integers only (no code shared with src/)

const warsawDay = (at: string) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Warsaw" }).format(new Date(at))
const markupFor = (day: string) => (day >= "2025-11-15" ? "1.45" : "1.3")
/** Nano-USD, digits beyond the 9th decimal rounded half up (the ingest rule). */
const nanoOf = (cost: string) => {
  const [whole, frac = ""] = cost.split(".")
  const kept = nanoUsd(`${whole}.${frac.slice(0, 9)}`)
  return frac.length > 9 && frac.charCodeAt(9) - 48 >= 5 ? kept + 1n : kept
}
/** PLN grosze per model of the rows of `events` in `month`: each (day, user, model) row rounded. */
const rowsByModel = (events: ReadonlyArray<Ev>, month: string) => {
  const rows = new Map<string, { day: string; model: string; nano: bigint }>()
  for (const e of events) {
    const day = warsawDay(e.at)
    if (!day.startsWith(month)) continue
    const key = JSON.stringify([day, e.user, e.model])
    const r = rows.get(key) ?? { day, model: e.model, nano: 0n }
    r.nano += nanoOf(e.cost)
    rows.set(key, r)
  }
  const byModel = new Map<string, bigint>()
  for (const r of rows.values()) {
    byModel.set(r.model, (byModel.get(r.model) ?? 0n) + grosze(expectedPln(r.nano, markupFor(r.day), previousTable(r.day).mid)))
  }
  return byModel
}

let novemberClosing: any
let openRefusal: { status: number; body: any }

beforeAll(async () => {
  requireXmllint()
  nbp = await startNbpStandIn({ today: "2025-12-31" })
  dataDir = tempDir("mai-usage-invoice-")
  app = await startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url, ...PARTIES })
  for (const e of OCTOBER) await send(e)
  await post("/api/v1/admin/batch/run?from=2025-10-01&to=2025-10-31")
  await post("/api/v1/admin/months/2025-10/close")

  // The markup changes from 15 November: a restart on the same DATA_DIR.
  await app.close()
  app = await startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url, ...PARTIES, USAGE_MARKUP_MULTIPLIER: "1.45", USAGE_MARKUP_EFFECTIVE_FROM: "2025-11-15" })
  for (const e of NOVEMBER) await send(e)
  await post("/api/v1/admin/batch/run?from=2025-11-01&to=2025-11-30")
  await send(LATE)
  await post("/api/v1/admin/batch/run?date=2025-10-26")

  const open = await invoice("2025-11")
  openRefusal = { status: open.status, body: await open.json() }
  novemberClosing = await post("/api/v1/admin/months/2025-11/close?reason=FV")
})

afterAll(async () => {
  await app?.close()
  await nbp?.close()
  if (dataDir !== undefined) Fs.rmSync(dataDir, { recursive: true, force: true })
})

describe("GET /api/v1/invoices/YYYY-MM/fa3.xml", () => {
  it("refuses an open month with 409 and one line", () => {
    expect(openRefusal.status).toBe(409)
    expect(openRefusal.body).toEqual({
      error: "2025-11 is open: an invoice is drafted only for a closed month (mai-usage month close 2025-11)"
    })
  })

  it("drafts the closed month: valid FA(3), lines per model adding up to the closed total, VAT on the total, gross = net + VAT", async () => {
    const before = warsawDay(new Date().toISOString())
    const res = await invoice("2025-11")
    const xml = await res.text()
    expect(res.status, xml).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/xml; charset=utf-8")
    expect(res.headers.get("content-disposition")).toBe("attachment; filename=\"mai-usage_acme_FA3_2025-11.xml\"")
    expect(validateFa3(xml)).toEqual({ code: 0, output: "- validates" })

    const statement = await json("/api/v1/statements/2025-11")
    expect(statement.markups.map((m: any) => m.markup)).toEqual(["1.3", "1.45"])
    expect(statement.adjustments).toHaveLength(1)

    // Independently: the month's rows per model from the events, plus the late event's adjustment.
    const expected = rowsByModel(NOVEMBER, "2025-11")
    const lateDay = warsawDay(LATE.at)
    const haikuOct = OCTOBER.filter((e) => e.model === HAIKU && warsawDay(e.at) === lateDay)
    const booked = nanoOf(haikuOct[0].cost)
    const t = previousTable(lateDay)
    const adjustment = grosze(expectedPln(booked + nanoOf(LATE.cost), "1.3", t.mid)) - grosze(expectedPln(booked, "1.3", t.mid))
    expect(plnOf(adjustment)).toBe(statement.adjustments[0].costPln)
    expected.set(HAIKU, expected.get(HAIKU)! + adjustment)

    const lines = invoiceLines(xml)
    expect(lines.map((l) => [l.description.match(/model (\S+),/)?.[1], l.net, l.unitPrice, l.quantity, l.rate])).toEqual(
      [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([model, g]) => [model, plnOf(g), plnOf(g), "1", "23"])
    )
    expect(lines.find((l) => l.description.includes(HAIKU))!.description).toContain(
      `w tym korekty za wcześniejsze miesiące: ${plnOf(adjustment)} PLN`
    )

    const net = [...expected.values()].reduce((a, b) => a + b, 0n)
    expect(text(xml, "P_13_1")).toBe(plnOf(net))
    expect(plnOf(net)).toBe(statement.totals.costPln)
    expect(plnOf(net)).toBe(novemberClosing.costPln)
    expect(text(xml, "P_14_1")).toBe(plnOf(vatOf(net, 23)))
    expect(text(xml, "P_15")).toBe(plnOf(net + vatOf(net, 23)))

    // The parties, the dates, the number, and what ties it to the close.
    expect(texts(xml, "NIP")).toEqual([PARTIES.RESELLER_NIP, PARTIES.CLIENT_NIP])
    expect(texts(xml, "Nazwa")).toEqual([PARTIES.RESELLER_NAME, PARTIES.CLIENT_NAME])
    expect(texts(xml, "AdresL1")).toEqual([PARTIES.RESELLER_ADDRESS, PARTIES.CLIENT_ADDRESS])
    expect([before, warsawDay(new Date().toISOString())]).toContain(text(xml, "P_1"))
    expect(text(xml, "P_6")).toBe("2025-11-30")
    expect(text(xml, "P_2")).toBe("2025/11/acme")
    expect(text(xml, "KodWaluty")).toBe("PLN")
    expect(texts(xml, "Wartosc")[0]).toBe(novemberClosing.statementSha256)
  })

  it("drafts October, closed before the adjustment, as it was closed", async () => {
    const res = await invoice("2025-10", "?issueDate=2025-11-05")
    const xml = await res.text()
    expect(res.status, xml).toBe(200)
    expect(validateFa3(xml).code).toBe(0)
    const oct = rowsByModel(OCTOBER, "2025-10")
    const net = [...oct.values()].reduce((a, b) => a + b, 0n)
    expect(text(xml, "P_13_1")).toBe(plnOf(net))
    expect(text(xml, "P_13_1")).toBe((await json("/api/v1/statements/2025-10")).closing.costPln)
    expect(text(xml, "P_1")).toBe("2025-11-05")
    expect(text(xml, "P_2")).toBe("2025/10/acme")
  })

  it("refuses bad parameters with 400, and answers only the admin", async () => {
    const early = await invoice("2025-11", "?issueDate=2025-11-29")
    expect(early.status).toBe(400)
    expect(await early.json()).toEqual({ error: "the issue date 2025-11-29 is before the end of 2025-11, the month it invoices" })
    expect((await invoice("2025-11", "?issueDate=2025-02-30")).status).toBe(400)
    expect((await invoice("2025-13")).status).toBe(400)
    expect((await fetch(`${url()}/api/v1/invoices/2025-11/fa3.xml`)).status).toBe(401)
  })

  it("is described in the OpenAPI document as XML, with its refusals", async () => {
    const spec = (await (await fetch(`${url()}/api/v1/openapi.json`)).json()) as any
    const op = spec.paths["/api/v1/invoices/{month}/fa3.xml"].get
    expect(op.parameters.map((p: any) => p.name)).toEqual(["month", "issueDate"])
    expect(Object.keys(op.responses["200"].content)).toEqual(["application/xml"])
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "409", "503"]))
  })
})

describe("mai-usage invoice draft", () => {
  it("writes the draft with --out and --issue-date, and prints its figures", async () => {
    const dir = tempDir("mai-usage-invoice-out-")
    try {
      const file = Path.join(dir, "fa3.xml")
      const r = await runCli(["invoice", "draft", "2025-11", "--out", file, "--issue-date", "2025-12-05"], cliEnv())
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      const xml = Fs.readFileSync(file, "utf8")
      expect(validateFa3(xml)).toEqual({ code: 0, output: "- validates" })
      expect(text(xml, "P_1")).toBe("2025-12-05")
      const net = text(xml, "P_13_1")!
      expect(net).toBe(novemberClosing.costPln)
      const vat = plnOf(vatOf(grosze(net), 23))
      expect(r.stdout).toBe(
        `2025-11: FA(3) draft 2025/11/acme written to ${file}: net ${net} PLN, VAT 23% ${vat} PLN, ` +
          `gross ${plnOf(grosze(net) + grosze(vat))} PLN, 3 line(s), issued 2025-12-05; ` +
          `statement SHA-256 ${novemberClosing.statementSha256}; nothing was sent to KSeF\n`
      )
      expect(Fs.readdirSync(dir)).toEqual(["fa3.xml"])
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("prints the XML alone to stdout without --out; INVOICE_LINES=month gives one line", async () => {
    const r = await runCli(["invoice", "draft", "2025-11", "--issue-date", "2025-12-01"], cliEnv({ INVOICE_LINES: "month" }))
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")).toBe(true)
    expect(validateFa3(r.stdout).code).toBe(0)
    expect(invoiceLines(r.stdout).map((l) => l.net)).toEqual([novemberClosing.costPln])
  })

  it("refuses an open month (exit 1), a missing NIP (exit 1), bad arguments and a bad NIP (exit 2), each in one line", async () => {
    const open = await runCli(["invoice", "draft", "2025-12"], cliEnv())
    expect([open.code, open.stdout, open.stderr]).toEqual([
      1,
      "",
      "invoice: 2025-12 is open: an invoice is drafted only for a closed month (mai-usage month close 2025-12)\n"
    ])
    const noNip = await runCli(["invoice", "draft", "2025-11"], cliEnv({ CLIENT_NIP: "" }))
    expect([noNip.code, noNip.stdout, noNip.stderr]).toEqual([
      1,
      "",
      "invoice: CLIENT_NIP is not set: an FA(3) invoice needs the buyer's NIP\n"
    ])
    const badNip = await runCli(["invoice", "draft", "2025-11"], cliEnv({ RESELLER_NIP: "1234563219" }))
    expect(badNip.code).toBe(2)
    expect(badNip.stderr).toMatch(/^configuration error: RESELLER_NIP: must be a Polish NIP: 10 digits[^\n]*"1234563219"\n$/)
    const badMonth = await runCli(["invoice", "draft", "2025-13"], cliEnv())
    expect([badMonth.code, badMonth.stderr]).toEqual([2, "invoice: invalid month \"2025-13\": expected YYYY-MM\n"])
    const early = await runCli(["invoice", "draft", "2025-11", "--issue-date", "2025-11-15"], cliEnv())
    expect([early.code, early.stderr]).toEqual([
      2,
      "invoice: --issue-date: the issue date 2025-11-15 is before the end of 2025-11, the month it invoices\n"
    ])
  })
})

describe("the API without a party's NIP", () => {
  it("refuses the draft with 409, naming the variable", async () => {
    await app!.close()
    app = undefined
    app = await startApp({ DATA_DIR: dataDir, NBP_API_URL: nbp.url, ...PARTIES, RESELLER_NIP: "" })
    const res = await invoice("2025-11")
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ error: "RESELLER_NIP is not set: an FA(3) invoice needs the seller's NIP" })
  })
})
