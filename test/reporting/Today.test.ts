/**
 * Today so far: read from the usage store (events posted to the real webhook), USD exact, PLN only
 * as an indication at the latest NBP table — and no PLN at all, said so, when NBP is unreachable.
 */
import { BigDecimal } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { costPln, formatDecimal } from "../../src/domain/Money.js"
import { warsawDay } from "../../src/domain/WarsawDay.js"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { csvObjects } from "../support/csv.js"
import { generationDelivery } from "../support/otlp.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
let nbp: NbpStandIn
let withNbp: TestApp
let withoutNbp: TestApp

const post = async (app: TestApp, id: string, user: string, model: string, cost: number, time = new Date()) => {
  const res = await postWebhook(app.url, generationDelivery({ id, time, user, model, inputTokens: 1000, outputTokens: 200, cost }))
  expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 })
}

const seed = async (app: TestApp) => {
  await post(app, "gen-today-1", "anna.kowalska@example.pl", "openai/gpt-4o", 0.012345)
  await post(app, "gen-today-2", "anna.kowalska@example.pl", "openai/gpt-4o", 1.5)
  await post(app, "gen-today-3", "bot-1", "google/gemini-2.5-pro", 0.2)
  // Two days ago: not today's usage.
  await post(app, "gen-old-1", "bot-1", "google/gemini-2.5-pro", 99, new Date(Date.now() - 2 * 86_400_000))
}

beforeAll(async () => {
  nbp = await startNbpStandIn()
  ;[withNbp, withoutNbp] = await Promise.all([startApp({ NBP_API_URL: nbp.url }), startApp()])
  await seed(withNbp)
  await seed(withoutNbp)
})
afterAll(async () => {
  await Promise.all([withNbp?.close(), withoutNbp?.close()])
  await nbp?.close()
})

describe("GET /api/v1/usage/today", () => {
  it("answers today's usage per user and model, in USD and an indicative PLN at the latest NBP table, not billed", async () => {
    const res = await fetch(withNbp.url + "/api/v1/usage/today", { headers: auth })
    expect(res.status).toBe(200)
    const today = (await res.json()) as any
    const latest = fixtureTables()[fixtureTables().length - 1]
    expect(today).toMatchObject({
      date: warsawDay(Date.now()),
      timeZone: "Europe/Warsaw",
      billed: false,
      markup: "1.3",
      rate: { rate: latest.mid, rateTable: latest.no, rateDate: latest.effectiveDate, stale: false },
      rateError: null
    })
    const pln = (nusd: bigint) => formatDecimal(costPln(nusd, BigDecimal.unsafeFromString("1.3"), BigDecimal.unsafeFromString(latest.mid)), 2)
    expect(today.rows).toEqual([
      {
        user: "anna.kowalska@example.pl",
        model: "openai/gpt-4o",
        requests: 2,
        inputTokens: 2000,
        outputTokens: 400,
        totalTokens: 2400,
        cachedTokens: 0,
        reasoningTokens: 0,
        costUsd: "1.512345",
        costPln: pln(1_512_345_000n)
      },
      {
        user: "bot-1",
        model: "google/gemini-2.5-pro",
        requests: 1,
        inputTokens: 1000,
        outputTokens: 200,
        totalTokens: 1200,
        cachedTokens: 0,
        reasoningTokens: 0,
        costUsd: "0.20",
        costPln: pln(200_000_000n)
      }
    ])
    expect(today.totals.costUsd).toBe("1.712345")
    expect(BigDecimal.equals(
      BigDecimal.unsafeFromString(today.totals.costPln),
      BigDecimal.sum(BigDecimal.unsafeFromString(today.rows[0].costPln), BigDecimal.unsafeFromString(today.rows[1].costPln))
    )).toBe(true)
  })

  it("without NBP still answers in USD, with no PLN and the reason — never an invented rate", async () => {
    const res = await fetch(withoutNbp.url + "/api/v1/usage/today", { headers: auth })
    expect(res.status).toBe(200)
    const today = (await res.json()) as any
    expect(today.billed).toBe(false)
    expect(today.rate).toBeNull()
    expect(today.rateError).toMatch(/NBP/)
    expect(today.totals).toMatchObject({ costUsd: "1.712345", costPln: null, requests: 3 })
    expect(today.rows.map((r: any) => r.costPln)).toEqual([null, null])
  })

  it("as CSV, the same rows with the date", async () => {
    const json = (await (await fetch(withNbp.url + "/api/v1/usage/today", { headers: auth })).json()) as any
    const res = await fetch(withNbp.url + "/api/v1/usage/today?format=csv", { headers: auth })
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/)
    expect(csvObjects(await res.text())).toEqual(
      json.rows.map((r: any) => ({
        date: json.date,
        ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]))
      }))
    )
  })
})
