/** The accounting rules as plain functions: markup in force, first open month, the adjustment rule. */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { adjustmentsFor, firstOpenMonthAfter, markupOn } from "../../src/billing/Periods.js"
import { lastDay } from "../../src/domain/WarsawDay.js"
import { describeDays } from "../../src/billing/Months.js"
import { validate } from "../../src/platform/Config.js"
import { tempDir } from "../support/app.js"
import * as Fs from "node:fs"

const pricing = { markup: "1.3", rate: "3.6751", rateTable: "212/A/NBP/2025", rateDate: "2025-10-31" }
const agg = (requests: number, costNusd: bigint) => ({
  user: "u",
  model: "m",
  requests,
  inputTokens: requests * 10,
  outputTokens: requests,
  totalTokens: requests * 11,
  cachedTokens: 0,
  reasoningTokens: 0,
  costNusd
})

describe("accounting periods", () => {
  it("prices a day with the markup in force on it", () => {
    const entries = [
      { id: 1, effectiveFrom: "0001-01-01", multiplier: "1.3", recordedAt: "a" },
      { id: 2, effectiveFrom: "2025-10-15", multiplier: "1.5", recordedAt: "b" },
      { id: 3, effectiveFrom: "2025-10-15", multiplier: "1.6", recordedAt: "c" }
    ]
    expect(markupOn(entries, "2025-10-14")?.multiplier).toBe("1.3")
    expect(markupOn(entries, "2025-10-15")?.multiplier).toBe("1.6")
    expect(markupOn(entries, "2026-01-01")?.multiplier).toBe("1.6")
  })

  it("books adjustments into the first month after that is not closed", () => {
    expect(firstOpenMonthAfter("2025-11", new Set(["2025-11"]))).toBe("2025-12")
    expect(firstOpenMonthAfter("2025-11", new Set(["2025-11", "2025-12", "2026-01"]))).toBe("2026-02")
    expect(lastDay("2024-02")).toBe("2024-02-29")
    expect(describeDays(["2025-11-01", "2025-11-02", "2025-11-03", "2025-11-09"])).toBe("2025-11-01 to 2025-11-03, 2025-11-09")
  })

  it("gives the difference at the original pricing, so that booked plus adjustments equals what was found", () => {
    // 0.375 USD × 1.3 × 3.6751 = 1.79161… → 1.79; 0.875 USD → 4.18045… → 4.18
    const booked = [{ ...agg(2, 375_000_000n), ...pricing, costPln: "1.79" }]
    const [d] = adjustmentsFor(booked, [agg(3, 875_000_000n)], { ...pricing, rate: "9.9999" })
    expect(d).toMatchObject({ requests: 1, totalTokens: 11, costNusd: 500_000_000n, costUsd: "0.50", costPln: "2.39", rate: "3.6751" })
    // Once booked, the same figures give nothing more.
    expect(adjustmentsFor([...booked, { ...d }], [agg(3, 875_000_000n)], pricing)).toEqual([])
    // A vanished key is a credit.
    const [credit] = adjustmentsFor(booked, [], pricing)
    expect(credit).toMatchObject({ requests: -2, costUsd: "-0.375", costPln: "-1.79" })
  })

  it("refuses a USAGE_MARKUP_EFFECTIVE_FROM that is not a calendar day, naming it", async () => {
    const dir = tempDir()
    try {
      const r = await import("effect").then(({ Effect }) =>
        Effect.runPromise(validate({ DATA_DIR: dir, ADMIN_TOKEN: "x".repeat(32), OPENROUTER_WEBHOOK_SECRET: "y".repeat(32), USAGE_MARKUP_EFFECTIVE_FROM: "2025-02-30" }))
      )
      expect(Either.isLeft(r) && r.left.message).toMatch(/^USAGE_MARKUP_EFFECTIVE_FROM: expected a calendar day/)
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
