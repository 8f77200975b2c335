import * as Fs from "node:fs"
/**
 * The reporting API over real HTTP against the real app; the summary DB is filled as the batch
 * fills it (test/support/summarySeed.ts).
 */
import { BigDecimal } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dailyRowColumns } from "../../src/api/UsageModel.js"
import { ADMIN_TOKEN, login, startApp, type TestApp } from "../support/app.js"
import { csvObjects, parseCsv } from "../support/csv.js"
import { sampleRows, seedRows, seedRun, TRICKY_USER } from "../support/summarySeed.js"

let app: TestApp
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const get = (path: string, headers: Record<string, string> = auth) => fetch(app.url + path, { headers })
const getJson = async (path: string) => {
  const res = await get(path)
  expect(res.status, `${path}: ${res.status}`).toBe(200)
  return (await res.json()) as any
}

const dec = (s: string) => BigDecimal.unsafeFromString(s)
const sum = (xs: ReadonlyArray<string>) => xs.reduce((a, s) => BigDecimal.sum(a, dec(s)), dec("0"))
const same = (a: string, b: BigDecimal.BigDecimal) => BigDecimal.equals(dec(a), b)

beforeAll(async () => {
  app = await startApp()
  seedRows(app.dataDir, sampleRows)
  // Rows of another organisation in the same file must never show.
  seedRows(app.dataDir, [{ ...sampleRows[0], user: "intruder" }], { clientOrgId: "other-org" })
  seedRun(app.dataDir, { usageDate: "2025-11-03", status: "succeeded", startedAt: "2025-11-04T12:00:00.000Z", finishedAt: "2025-11-04T12:00:02.000Z", rowsWritten: 0 })
  seedRun(app.dataDir, { usageDate: "2025-11-04", status: "failed", startedAt: "2025-11-05T12:00:00.000Z", finishedAt: "2025-11-05T12:00:01.000Z", error: "NBP unreachable" })
})
afterAll(() => app.close())

describe("admin authentication", () => {
  it.each([
    "/api/v1/usage/daily?from=2025-10-01&to=2025-10-31",
    "/api/v1/usage/summary?month=2025-10",
    "/api/v1/usage/today",
    "/api/v1/usage/summary?month=2025-10&format=csv"
  ])("refuses %s without the token, or with a wrong one", async (path) => {
    expect((await get(path, {})).status).toBe(401)
    expect((await get(path, { authorization: "Bearer not-the-token" })).status).toBe(401)
    expect((await get(path, { cookie: "mai_session_default_0=not-a-session" })).status).toBe(401)
    // The token itself is never a cookie credential.
    expect((await get(path, { cookie: `mai_session_default_0=${ADMIN_TOKEN}` })).status).toBe(401)
  })

  it("accepts the bearer token and a dashboard session's cookie", async () => {
    const path = "/api/v1/usage/summary?month=2025-10"
    expect((await get(path)).status).toBe(200)
    const { cookie } = await login(app.url)
    expect((await get(path, { cookie: cookie! })).status).toBe(200)
  })
})

describe("GET /api/v1/usage/daily", () => {
  it("answers one row per (date, user, model) in the documented shape, money and rates as decimal strings", async () => {
    const { rows } = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    expect(rows).toHaveLength(6)
    expect(rows.every((r: any) => r.user !== "intruder")).toBe(true)
    const big = rows.find((r: any) => r.date === "2025-10-07" && r.model === "anthropic/claude-sonnet-4")
    // 231.5 USD × 1.3 × 3.6446 (table 193/A/NBP/2025 of 2025-10-06, the business day before) = 1096.84...
    expect(big).toEqual({
      date: "2025-10-07",
      user: "anna.kowalska@example.pl",
      model: "anthropic/claude-sonnet-4",
      requests: 40,
      inputTokens: 800000,
      outputTokens: 120000,
      totalTokens: 920000,
      cachedTokens: 0,
      reasoningTokens: 30000,
      costUsd: "231.50",
      markup: "1.3",
      rate: "3.6446",
      rateTable: "193/A/NBP/2025",
      rateDate: "2025-10-06",
      costPln: "1096.84"
    })
    expect(Object.keys(rows[0])).toEqual([...dailyRowColumns])
    expect(rows.map((r: any) => `${r.date} ${r.user} ${r.model}`)).toEqual(
      [...rows.map((r: any) => `${r.date} ${r.user} ${r.model}`)].sort()
    )
  })

  it("filters by dates (inclusive), user and model", async () => {
    const days = await getJson("/api/v1/usage/daily?from=2025-10-07&to=2025-10-09")
    expect(new Set(days.rows.map((r: any) => r.date))).toEqual(new Set(["2025-10-07", "2025-10-09"]))
    expect(days.rows).toHaveLength(4)

    const oneDay = await getJson("/api/v1/usage/daily?from=2025-10-06&to=2025-10-06")
    expect(oneDay.rows.map((r: any) => r.date)).toEqual(["2025-10-06", "2025-10-06"])

    const user = await getJson(`/api/v1/usage/daily?from=2025-10-01&to=2025-11-30&user=${encodeURIComponent(TRICKY_USER)}`)
    expect(user.rows.map((r: any) => [r.date, r.user, r.model])).toEqual([
      ["2025-10-06", TRICKY_USER, "anthropic/claude-sonnet-4"],
      ["2025-10-09", TRICKY_USER, "openai/gpt-4o"]
    ])

    const model = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-11-30&model=openai%2Fgpt-4o")
    expect(model.rows.map((r: any) => r.date)).toEqual(["2025-10-06", "2025-10-09", "2025-10-09", "2025-11-04"])
    expect(model.rows.every((r: any) => r.model === "openai/gpt-4o")).toBe(true)

    const both = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-11-30&model=openai%2Fgpt-4o&user=bot-1")
    expect(both.rows.map((r: any) => [r.date, r.costUsd])).toEqual([["2025-10-09", "12.000001"]])

    const none = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-11-30&user=nobody")
    expect(none.rows).toEqual([])
  })
})

describe("GET /api/v1/usage/summary", () => {
  it("totals, days, users and models are sums of the month's rows", async () => {
    const s = await getJson("/api/v1/usage/summary?month=2025-10")
    const { rows } = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    expect(s.month).toBe("2025-10")
    expect(s.clientOrgId).toBe("default")
    expect(same(s.totals.costPln, sum(rows.map((r: any) => r.costPln)))).toBe(true)
    expect(same(s.totals.costUsd, sum(rows.map((r: any) => r.costUsd)))).toBe(true)
    expect(s.totals.costUsd).toBe("245.087691") // exact, no float drift
    expect(s.totals.costPln).toBe("1161.48")
    expect(s.totals.requests).toBe(rows.reduce((n: number, r: any) => n + r.requests, 0))
    expect(s.totals.totalTokens).toBe(rows.reduce((n: number, r: any) => n + r.totalTokens, 0))

    for (const [list, key] of [["days", "date"], ["users", "user"], ["models", "model"]] as const) {
      const groups = new Set(rows.map((r: any) => r[key]))
      expect(s[list].map((g: any) => g[key]).sort()).toEqual([...groups].sort())
      for (const g of s[list]) {
        const mine = rows.filter((r: any) => r[key] === g[key])
        expect(same(g.costPln, sum(mine.map((r: any) => r.costPln))), `${list} ${g[key]} PLN`).toBe(true)
        expect(same(g.costUsd, sum(mine.map((r: any) => r.costUsd))), `${list} ${g[key]} USD`).toBe(true)
        expect(g.requests).toBe(mine.reduce((n: number, r: any) => n + r.requests, 0))
      }
      expect(same(s.totals.costPln, sum(s[list].map((g: any) => g.costPln)))).toBe(true)
    }
    expect(s.users.map((u: any) => u.user)).toEqual(["anna.kowalska@example.pl", "bot-1", TRICKY_USER]) // by cost
  })

  it("lists the NBP table of each day with its date, and the last batch run", async () => {
    const s = await getJson("/api/v1/usage/summary?month=2025-10")
    expect(s.rates).toEqual([
      { usageDate: "2025-10-06", rate: "3.6253", rateTable: "192/A/NBP/2025", rateDate: "2025-10-03" },
      { usageDate: "2025-10-07", rate: "3.6446", rateTable: "193/A/NBP/2025", rateDate: "2025-10-06" },
      { usageDate: "2025-10-09", rate: "3.6619", rateTable: "195/A/NBP/2025", rateDate: "2025-10-08" }
    ])
    expect(s.days.map((d: any) => [d.date, d.rateTable, d.rateDate])).toEqual([
      ["2025-10-06", "192/A/NBP/2025", "2025-10-03"],
      ["2025-10-07", "193/A/NBP/2025", "2025-10-06"],
      ["2025-10-09", "195/A/NBP/2025", "2025-10-08"]
    ])
    expect(s.lastBatchRun).toMatchObject({ usageDate: "2025-11-04", status: "failed", error: "NBP unreachable" })
    expect(s.lastSuccessfulRun).toMatchObject({ usageDate: "2025-11-03", status: "succeeded", rateTable: "212/A/NBP/2025" })
  })

  it("answers an empty month with zero totals and empty lists", async () => {
    const s = await getJson("/api/v1/usage/summary?month=2024-02")
    expect(s.totals).toMatchObject({ requests: 0, costUsd: "0.00", costPln: "0.00" })
    expect([s.days, s.users, s.models, s.rates]).toEqual([[], [], [], []])
  })
})

describe("CSV", () => {
  it("the CSV of a month equals its JSON rows: header row, UTF-8, RFC 4180 quoting, decimal points", async () => {
    const { rows } = await getJson("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    for (const request of [
      () => get("/api/v1/usage/summary?month=2025-10&format=csv"),
      () => get("/api/v1/usage/summary?month=2025-10", { ...auth, accept: "text/csv" }),
      () => get("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31", { ...auth, accept: "text/csv" })
    ]) {
      const res = await request()
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type")).toMatch(/^text\/csv; charset=utf-8/)
      expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="mai-usage_default_.*\.csv"$/)
      const bytes = Buffer.from(await res.arrayBuffer())
      expect(bytes.includes(Buffer.from("Łukasz \"\"Łuki\"\" Żółć, Kraków", "utf8"))).toBe(true)
      const text = bytes.toString("utf8")
      expect(parseCsv(text)[0]).toEqual([...dailyRowColumns])
      expect(text).toContain(`"${TRICKY_USER.replace(/"/g, "\"\"")}"`)
      const records = csvObjects(text)
      expect(records).toEqual(rows.map((r: any) => Object.fromEntries(dailyRowColumns.map((c) => [c, String(r[c])]))))
      // Decimal points and no thousands separators: every money field is a plain decimal.
      for (const r of records) for (const c of ["costUsd", "costPln", "rate", "markup"]) expect(r[c]).toMatch(/^\d+(\.\d+)?$/)
      expect(records.some((r) => r.costPln === "1096.84")).toBe(true)
    }
  })

  it("each list of the summary has its CSV, equal to the JSON list", async () => {
    const s = await getJson("/api/v1/usage/summary?month=2025-10")
    for (const [list, json] of [["days", s.days], ["users", s.users], ["models", s.models], ["rates", s.rates]] as const) {
      const res = await get(`/api/v1/usage/summary?month=2025-10&format=csv&list=${list}`)
      expect(res.status).toBe(200)
      const records = csvObjects(await res.text())
      expect(records, list).toEqual(json.map((o: any) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))))
    }
  })

  it("format=json wins over Accept: text/csv", async () => {
    const res = await get("/api/v1/usage/summary?month=2025-10&format=json", { ...auth, accept: "text/csv" })
    expect(res.headers.get("content-type")).toMatch(/^application\/json/)
  })
})

describe("query validation", () => {
  it.each([
    ["/api/v1/usage/daily?from=2025-02-30&to=2025-03-01", /invalid date "2025-02-30": no such calendar day/],
    ["/api/v1/usage/daily?from=2025-1-5&to=2025-03-01", /invalid date "2025-1-5": expected YYYY-MM-DD/],
    ["/api/v1/usage/daily?to=2025-03-01", /from[\s\S]*is missing/],
    ["/api/v1/usage/daily?from=2025-03-02&to=2025-03-01", /to \(2025-03-01\) is before from \(2025-03-02\)/],
    ["/api/v1/usage/daily?from=2025-03-01&to=2025-03-01&format=xml", /format/],
    ["/api/v1/usage/summary?month=2025-13", /invalid month "2025-13": expected YYYY-MM/],
    ["/api/v1/usage/summary?month=october", /invalid month "october"/],
    ["/api/v1/usage/summary", /month[\s\S]*is missing/],
    ["/api/v1/usage/summary?month=2025-10&format=csv&list=everything", /list/]
  ])("%s → 400 with a clear message", async (path, message) => {
    const res = await get(path)
    expect(res.status).toBe(400)
    const text = await res.text()
    const body = JSON.parse(text)
    expect(Object.keys(body)).toEqual(["error"])
    expect(body.error).toMatch(message)
    expect(body.error).not.toContain("\n")
    expect(body.error).not.toMatch(/[└├─]/) // no parse tree
  })
})

describe("OpenAPI and /docs", () => {
  it("describes the endpoints, their parameters and the CSV variant", async () => {
    const res = await fetch(app.url + "/api/v1/openapi.json")
    expect(res.status).toBe(200)
    const spec = (await res.json()) as any
    const daily = spec.paths["/api/v1/usage/daily"].get
    expect(daily.parameters.map((p: any) => p.name)).toEqual(["from", "to", "user", "model", "format", "dialect", "lang"])
    expect(Object.keys(daily.responses["200"].content)).toEqual(["application/json", "text/csv"])
    expect(daily.responses["401"]).toBeDefined()
    expect(spec.components.schemas.Unauthorized.properties).toHaveProperty("error")
    expect(spec.paths["/api/v1/usage/summary"].get.parameters.map((p: any) => p.name)).toEqual(["month", "format", "list", "dialect", "lang"])
    expect(spec.paths["/api/v1/usage/today"]).toBeDefined()
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" })
    // The version is the package's, and the webhook is described too.
    const pkg = JSON.parse(Fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    expect(spec.info.version).toBe(pkg.version)
    const webhook = spec.paths["/api/v1/webhooks/openrouter"].post
    expect(Object.keys(webhook.requestBody.content)).toEqual(["application/json", "application/x-protobuf"])
    expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "413", "503"]))
    // Error bodies are documented as they are answered: { error }.
    expect(spec.components.schemas.InvalidQuery.properties).toEqual({ error: expect.objectContaining({ type: "string" }) })
  })

  it("serves /docs from the service itself", async () => {
    const res = await fetch(app.url + "/docs")
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain(`<script src="/assets/docs.js"`)
    expect(html).not.toMatch(/https?:\/\//)
    expect((await fetch(app.url + "/assets/docs.js")).status).toBe(200)
  })
})
