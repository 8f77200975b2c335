/**
 * Budgets' rules with the `TestClock` deciding the month: each threshold alerted once per subject
 * and month (the summary DB's unique key, in a real SQLite file), re-armed by the new Warsaw month,
 * and a past month evaluated as its own (its thresholds never re-armed by the new month's). The
 * spend is a fake of billing's `BudgetSpend`; the directory a fake snapshot. Also the checks of a
 * budget as asked for, and whom a user's or a group's budget covers.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Effect, Either, Layer, TestClock } from "effect"
import * as Path from "node:path"
import { BudgetAlerts, checkBudget, coversOf } from "../../src/alerts/Budgets.js"
import { Enforcement, NoEnforcement } from "../../src/alerts/Enforcement.js"
import { BudgetSpend } from "../../src/billing/BudgetSpend.js"
import { SummaryRepo } from "../../src/billing/SummaryRepo.js"
import { Directory, type Snapshot } from "../../src/directory/Directory.js"
import { testLayer } from "../../src/platform/Config.js"
import { Metrics } from "../../src/platform/Metrics.js"
import * as SummaryDb from "../../src/store/SummaryDb.js"
import { tempDir } from "../support/tmp.js"

const snapshot: Snapshot = {
  users: [
    { id: "u-anna", name: "Anna Kowalska", email: "anna.kowalska@example.pl", role: "user" },
    { id: "u-jan", name: "Jan Nowak", email: "jan.nowak@example.pl", role: "user" }
  ],
  groups: [{ id: "g-sales", name: "Sprzedaż", members: ["u-anna", "u-jan"] }, { id: "g-it", name: "IT", members: ["u-anna"] }],
  layout: "group_member",
  readAt: "2025-11-01T00:00:00.000Z"
}

/** Spend per month and ledger user, as the test sets it. */
const spends = new Map<string, Record<string, string>>()

const layer = () =>
  BudgetAlerts.DefaultWithoutDependencies.pipe(
    Layer.provide(Layer.succeed(BudgetSpend, BudgetSpend.make({
      ofMonth: (month) =>
        Effect.succeed({
          month,
          byUser: new Map(Object.entries(spends.get(month) ?? {}).map(([u, p]) => [u, BigDecimal.unsafeFromString(p)])),
          indicativeDays: [],
          unpriced: null
        })
    }))),
    Layer.provide(Layer.succeed(Directory, Directory.make({
      state: Effect.succeed({ configured: true, snapshot, error: undefined }),
      refresh: Effect.succeed({ configured: true, snapshot, error: undefined })
    }))),
    Layer.provideMerge(SummaryRepo.Default),
    Layer.provide(SummaryDb.layer(Path.join(tempDir(), "usage_summary.db"))),
    Layer.provide(Metrics.Default),
    Layer.provide(testLayer()),
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.effect(Enforcement, NoEnforcement))
  )

const at = (iso: string) => TestClock.setTime(Date.parse(iso))

describe("thresholds by month (TestClock)", () => {
  it.scoped("alerts each threshold once a month; the new Warsaw month re-arms them; a past month keeps its own", () =>
    Effect.gen(function*() {
      const budgets = yield* BudgetAlerts
      yield* budgets.set({ scope: "client", amountPln: "100" })
      yield* budgets.set({ scope: "user", subject: "anna.kowalska@example.pl", amountPln: "50", thresholds: [100] })
      const alerted = (e: { budgets: ReadonlyArray<{ budget: { scope: string }; alerted: ReadonlyArray<number> }> }) =>
        Object.fromEntries(e.budgets.map((b) => [b.budget.scope, b.alerted]))

      yield* at("2025-11-20T12:00:00.000Z")
      spends.set("2025-11", { "u-anna": "30.00", "jan.nowak@example.pl": "30.00" })
      const first = yield* budgets.evaluate()
      expect(first.month).toBe("2025-11")
      expect(alerted(first)).toEqual({ client: [50], user: [] })
      expect(first.budgets[0].spendPln).toBe("60.00")
      expect(first.budgets[0].percent).toBe("60.0")

      spends.set("2025-11", { "u-anna": "55.00", "jan.nowak@example.pl": "30.00" })
      expect(alerted(yield* budgets.evaluate())).toEqual({ client: [80], user: [100] })
      expect(alerted(yield* budgets.evaluate())).toEqual({ client: [], user: [] })

      // 23:30 UTC on 30 November is 00:30 on 1 December in Warsaw: a new month, thresholds re-armed.
      yield* at("2025-11-30T23:30:00.000Z")
      spends.set("2025-12", { "jan.nowak@example.pl": "51.00" })
      const december = yield* budgets.evaluate()
      expect(december.month).toBe("2025-12")
      expect(alerted(december)).toEqual({ client: [50], user: [] })

      // November judged as at its end: only its own threshold not yet reached is alerted.
      spends.set("2025-11", { "u-anna": "70.00", "jan.nowak@example.pl": "30.00" })
      expect(alerted(yield* budgets.evaluate("2025-11"))).toEqual({ client: [100], user: [] })
      expect(alerted(yield* budgets.evaluate("2025-12"))).toEqual({ client: [], user: [] })

      const recorded = yield* budgets.alerts(50)
      expect(recorded.alerts.map((a) => `${a.month} ${a.scope} ${a.threshold}`)).toEqual([
        "2025-11 client 100",
        "2025-12 client 50",
        "2025-11 user 100",
        "2025-11 client 80",
        "2025-11 client 50"
      ])
      // No channel configured: recorded and shown, no attempt.
      expect(recorded.channels).toEqual([])
      expect(recorded.alerts.every((a) => a.attempts.length === 0)).toBe(true)
      expect(recorded.alerts[2].text).toBe(
        "Budżet użytkownika Anna Kowalska (anna.kowalska@example.pl) na 2025-11: osiągnięto 100 % — wydano 55,00\u00a0zł z 50,00\u00a0zł."
      )
    }).pipe(Effect.provide(layer())))
})

describe("a budget as asked for", () => {
  const ok = (r: Parameters<typeof checkBudget>[0]) => checkBudget(r, "2025-11-01T00:00:00.000Z")
  it("keeps the amount to the grosz and sorts the thresholds", () => {
    expect(ok({ scope: "group", subject: " Sprzedaż ", amountPln: "2000,5", thresholds: [100, 50, 80, 80] })).toEqual(Either.right({
      scope: "group",
      subject: "Sprzedaż",
      amountPln: "2000.50",
      thresholds: [50, 80, 100],
      updatedAt: "2025-11-01T00:00:00.000Z"
    }))
  })
  it("refuses what is not a budget, saying why", () => {
    const why = (r: Parameters<typeof checkBudget>[0]) => Either.getLeft(ok(r)).pipe((o) => (o._tag === "Some" ? o.value : ""))
    expect(why({ scope: "client", amountPln: "0" })).toBe("the amount must be greater than 0")
    expect(why({ scope: "client", amountPln: "12.345" })).toContain("at most 2 decimals")
    expect(why({ scope: "client", subject: "x", amountPln: "1" })).toContain("a client budget has no subject")
    expect(why({ scope: "user", amountPln: "1" })).toContain("needs the user's id or e-mail")
    expect(why({ scope: "user", subject: "a", amountPln: "1", thresholds: [0] })).toContain("whole per cent from 1 to 1000")
    expect(why({ scope: "user", subject: "a", amountPln: "1", thresholds: [50.5] })).toContain("whole per cent")
  })
})

describe("whom a budget covers", () => {
  const budget = (scope: "user" | "group", subject: string) => ({ scope, subject, amountPln: "1.00", thresholds: [100], updatedAt: "" })
  it("a user by id or e-mail, whichever OpenRouter's user is", () => {
    const covers = coversOf(budget("user", "ANNA.kowalska@example.pl"), snapshot) as (u: string) => boolean
    expect(["u-anna", "anna.kowalska@example.pl", "u-jan", "someone"].map(covers)).toEqual([true, true, false, false])
  })
  it("a group's members, by the group's id or name; without the directory, it cannot tell", () => {
    const covers = coversOf(budget("group", "IT"), snapshot) as (u: string) => boolean
    expect(["u-anna", "anna.kowalska@example.pl", "u-jan"].map(covers)).toEqual([true, true, false])
    expect(coversOf(budget("group", "g-sales"), snapshot)).toBeTypeOf("function")
    expect(coversOf(budget("group", "Nope"), snapshot)).toBe('no group "Nope" in the user directory')
    expect(coversOf(budget("group", "IT"), undefined)).toContain("not available")
  })
})
