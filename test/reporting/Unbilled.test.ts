/**
 * Usage older than the 31-day catch-up that no batch ever billed is not silently missing: the month
 * summary lists the day, its usage and the command that bills it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addDays, dayOf } from "../../src/domain/WarsawDay.js"
import { ADMIN_TOKEN, postWebhook, startApp, type TestApp } from "../support/app.js"
import { generationDelivery } from "../support/otlp.js"
import { seedRun } from "../support/summarySeed.js"

let app: TestApp
const today = dayOf(Date.now(), "Europe/Warsaw")
const old = addDays(today, -45)
const recent = addDays(today, -2)
const billed = addDays(today, -46)

const summary = async (month: string) => {
  const res = await fetch(`${app.url}/api/v1/usage/summary?month=${month}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as any
}

beforeAll(async () => {
  app = await startApp()
  for (const [id, day, cost] of [["gen-old", old, 1.25], ["gen-recent", recent, 0.5], ["gen-billed", billed, 2]] as const) {
    const res = await postWebhook(app.url, generationDelivery({
      id, time: new Date(`${day}T10:00:00.000Z`), user: "anna.kowalska@example.pl", model: "openai/gpt-4o",
      inputTokens: 100, outputTokens: 10, cost
    }))
    expect(res.status).toBe(200)
  }
  seedRun(app.dataDir, { usageDate: billed, status: "succeeded", startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() })
})
afterAll(() => app?.close())

describe("unbilled days", () => {
  it("lists a day older than the catch-up window with its usage and how to bill it", async () => {
    const s = await summary(old.slice(0, 7))
    const day = s.unbilledDays.find((d: any) => d.date === old)
    expect(day).toEqual({
      date: old, requests: 1, costUsd: "1.25", withinCatchUp: false, command: `mai-usage batch --run-now --date ${old}`
    })
    // A day with a successful run is billed, not listed (even with no rows in this test's DB).
    expect(s.unbilledDays.some((d: any) => d.date === billed)).toBe(false)
  })

  it("marks a recent day as one the schedule's catch-up bills by itself; today is never listed", async () => {
    const s = await summary(recent.slice(0, 7))
    expect(s.unbilledDays.find((d: any) => d.date === recent)).toMatchObject({ withinCatchUp: true, requests: 1 })
    expect(s.unbilledDays.some((d: any) => d.date >= today)).toBe(false)
  })
})
