/**
 * From webhook to report: events posted to the real webhook, the real daily batch run through the
 * admin API against the NBP stand-in, then the reporting API reads what the batch wrote.
 */
import { BigDecimal } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { csvObjects } from "../support/csv.js"
import { generationDelivery } from "../support/otlp.js"
import { type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
let nbp: NbpStandIn
let app: TestApp

const json = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(app.url + path, { ...init, headers: auth })
  expect(res.status, `${path} → ${res.status}`).toBe(200)
  return (await res.json()) as any
}

// Warsaw is UTC+2 until 2025-10-26, so Warsaw midnight of 2025-10-07 is 2025-10-06T22:00Z.
const events = [
  { id: "gen-e2e-1", time: "2025-10-06T08:00:00Z", user: "anna.kowalska@example.pl", model: "openai/gpt-4o", cost: 0.012345 },
  { id: "gen-e2e-2", time: "2025-10-06T21:59:59Z", user: "anna.kowalska@example.pl", model: "openai/gpt-4o", cost: 0.5 },
  { id: "gen-e2e-3", time: "2025-10-06T22:00:00Z", user: "Łukasz, \"Łuki\"", model: "anthropic/claude-sonnet-4", cost: 2.25 },
  { id: "gen-e2e-4", time: "2025-10-07T12:00:00Z", user: "Łukasz, \"Łuki\"", model: "anthropic/claude-sonnet-4", cost: 1 }
]

beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-11-30" })
  app = await startApp({ NBP_API_URL: nbp.url })
  for (const e of events) {
    const res = await postWebhook(app.url, generationDelivery({
      id: e.id,
      time: new Date(e.time),
      user: e.user,
      model: e.model,
      inputTokens: 1000,
      outputTokens: 100,
      cost: e.cost
    }))
    expect(res.status).toBe(200)
  }
  await json("/api/v1/admin/batch/run?from=2025-10-06&to=2025-10-07", { method: "POST" })
})
afterAll(async () => {
  await app?.close()
  await nbp?.close()
})

describe("webhook → daily batch → reports", () => {
  it("reports the batch's rows per Warsaw day, at the NBP table of the business day before", async () => {
    const { rows } = await json("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    expect(rows.map((r: any) => [r.date, r.user, r.model, r.requests, r.costUsd, r.rateTable, r.rateDate, r.rate, r.costPln])).toEqual([
      // 0.512345 × 1.3 × 3.6253 = 2.4145… → 2.41
      ["2025-10-06", "anna.kowalska@example.pl", "openai/gpt-4o", 2, "0.512345", "192/A/NBP/2025", "2025-10-03", "3.6253", "2.41"],
      // 3.25 × 1.3 × 3.6446 = 15.398… → 15.40
      ["2025-10-07", "Łukasz, \"Łuki\"", "anthropic/claude-sonnet-4", 2, "3.25", "193/A/NBP/2025", "2025-10-06", "3.6446", "15.40"]
    ])
  })

  it("the month summary sums those rows and shows the batch's last run", async () => {
    const s = await json("/api/v1/usage/summary?month=2025-10")
    expect(s.totals).toMatchObject({ requests: 4, costUsd: "3.762345", costPln: "17.81" })
    expect(BigDecimal.equals(BigDecimal.unsafeFromString(s.totals.costPln), BigDecimal.unsafeFromString("17.81"))).toBe(true)
    expect(s.rates.map((r: any) => [r.usageDate, r.rateTable, r.rateDate])).toEqual([
      ["2025-10-06", "192/A/NBP/2025", "2025-10-03"],
      ["2025-10-07", "193/A/NBP/2025", "2025-10-06"]
    ])
    expect(s.lastBatchRun).toMatchObject({ usageDate: "2025-10-07", status: "succeeded", trigger: "api", rateTable: "193/A/NBP/2025" })
    expect(s.lastSuccessfulRun.id).toBe(s.lastBatchRun.id)
  })

  it("the month's CSV equals the JSON rows", async () => {
    const { rows } = await json("/api/v1/usage/daily?from=2025-10-01&to=2025-10-31")
    const res = await fetch(app.url + "/api/v1/usage/summary?month=2025-10", { headers: { ...auth, accept: "text/csv" } })
    expect(csvObjects(await res.text())).toEqual(
      rows.map((r: any) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])))
    )
  })
})
