/**
 * Billing's rules over fake layers, with no I/O: no SQLite, no HTTP, no files. The repository is a
 * `SummaryRepo.fake` that records what it is asked to write; the clock is the `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { DailyRow } from "../../src/api/UsageModel.js"
import { BatchLock } from "../../src/billing/BatchLock.js"
import { MarkupHistory } from "../../src/billing/MarkupHistory.js"
import { Months } from "../../src/billing/Months.js"
import { NoReconciliation, ReconciliationGate } from "../../src/billing/ReconciliationGate.js"
import { priceRow, totals } from "../../src/billing/Pricing.js"
import { Statements } from "../../src/billing/Statements.js"
import type { BilledRow } from "../../src/billing/Summary.js"
import * as SummaryRepo from "../../src/billing/SummaryRepo.js"
import type { ClosingRecord, LockHolder, SummaryRepoShape } from "../../src/billing/SummaryRepo.js"
import type { MarkupEntry } from "../../src/billing/Periods.js"
import { daysFrom } from "../../src/domain/WarsawDay.js"
import { type AppSettings, testLayer } from "../../src/platform/Config.js"

interface Books {
  succeeded: Set<string>
  closings: Array<ClosingRecord>
  markups: Array<MarkupEntry>
  rows: Array<BilledRow>
  holder: LockHolder | undefined
  writes: Array<string>
}

const books = (o: Partial<Books> = {}): Books => ({
  succeeded: new Set(),
  closings: [],
  markups: [],
  rows: [],
  holder: undefined,
  writes: [],
  ...o
})

/** A repository over `b`: reads answer from it, writes are recorded in `b.writes`. */
const fakeRepo = (b: Books) =>
  SummaryRepo.fake({
    succeededDays: (from, to) => Effect.succeed(new Set([...b.succeeded].filter((d) => d >= from && d <= to))),
    closings: Effect.sync(() => b.closings),
    closing: (month) => Effect.sync(() => b.closings.find((c) => c.month === month)),
    insertClosing: (c) => Effect.sync(() => void (b.writes.push(`close ${c.month}`), b.closings.push(c))),
    billedRows: ({ from, to }) => Effect.sync(() => b.rows.filter((r) => r.row.date >= from && r.row.date <= to)),
    adjustmentsIn: () => Effect.succeed([]),
    markupEntries: Effect.sync(() => b.markups),
    newestRowMarkup: Effect.succeed(undefined),
    recordMarkup: (effectiveFrom, multiplier, at) =>
      Effect.sync(() => {
        b.writes.push(`markup ${multiplier} from ${effectiveFrom}`)
        b.markups.push({ id: b.markups.length + 1, effectiveFrom, multiplier, recordedAt: at })
      }),
    tryLock: () => Effect.sync(() => Option.fromNullable(b.holder)),
    renewLock: () => Effect.void,
    failInterrupted: () => Effect.succeed(0),
    unlock: () => Effect.void
  } satisfies Partial<SummaryRepoShape>)

const billingOver = (b: Books, config: Partial<AppSettings> = {}, gate?: Layer.Layer<ReconciliationGate>) =>
  Layer.mergeAll(Months.Default, MarkupHistory.Default).pipe(
    Layer.provideMerge(Layer.mergeAll(Statements.Default, BatchLock.Default())),
    Layer.provideMerge(Layer.merge(fakeRepo(b), gate ?? NoReconciliation)),
    Layer.provideMerge(testLayer(config))
  )

const row = (date: string, user: string, costUsd: string, costPln: string): BilledRow => ({
  costNusd: BigInt(costUsd.replace(".", "")) * 10n ** BigInt(9 - (costUsd.split(".")[1]?.length ?? 0)),
  row: new DailyRow({
    date,
    user,
    model: "m/one",
    requests: 1,
    inputTokens: 10,
    outputTokens: 2,
    totalTokens: 12,
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd,
    markup: "1.3",
    rate: "3.6751",
    rateTable: "212/A/NBP/2025",
    rateDate: "2025-10-31",
    costPln
  })
})

const at = (iso: string) => TestClock.setTime(Date.parse(iso))
const dec = BigDecimal.unsafeFromString

describe("month close", () => {
  it.effect("is refused, naming the days without a successful run, and writes nothing", () => {
    const b = books({ succeeded: new Set(daysFrom("2025-10-01", "2025-10-31").filter((d) => d !== "2025-10-07" && d !== "2025-10-08")) })
    return Effect.gen(function*() {
      yield* at("2025-11-05T12:00:00Z")
      const months = yield* Months
      const refused = yield* Effect.flip(months.close("2025-10", "cli"))
      expect(refused._tag).toBe("MonthRefused")
      expect(refused.message).toContain("no successful batch run for 2025-10-07 to 2025-10-08")
      expect(refused.message).toContain("mai-usage batch --run-now --from 2025-10-07 --to 2025-10-08")
      expect(b.writes).toEqual([])
    }).pipe(Effect.provide(billingOver(b)))
  })

  it.effect("is refused while a day of the month is not over (Warsaw time)", () => {
    const b = books({ succeeded: new Set(daysFrom("2025-10-01", "2025-10-31")) })
    return Effect.gen(function*() {
      // 23:30 UTC on the 31st is already 1 November in Warsaw: the month is over there.
      yield* at("2025-10-31T22:30:00Z")
      const months = yield* Months
      const refused = yield* Effect.flip(months.close("2025-10", "cli"))
      expect(refused.message).toContain("2025-10-31 is not over yet")
      yield* at("2025-10-31T23:30:00Z")
      const closed = yield* months.close("2025-10", "api")
      expect(closed.closedBy).toBe("api")
      expect(b.writes).toEqual(["close 2025-10"])
    }).pipe(Effect.provide(billingOver(b)))
  })

  it.effect("records the statement's totals (sums of its rows) and the SHA-256 of its CSV", () => {
    const b = books({
      succeeded: new Set(daysFrom("2025-10-01", "2025-10-31")),
      rows: [row("2025-10-03", "anna", "1.5", "7.17"), row("2025-10-04", "jan", "0.25", "1.19")]
    })
    return Effect.gen(function*() {
      yield* at("2025-11-05T12:00:00Z")
      const months = yield* Months
      const statements = yield* Statements
      const closed = yield* months.close("2025-10", "cli", "invoiced")
      expect([closed.costUsd, closed.costPln, closed.requests, closed.reason]).toEqual(["1.75", "8.36", 2, "invoiced"])
      const statement = yield* statements.build("2025-10")
      expect(statement.status).toBe("closed")
      const { createHash } = yield* Effect.promise(() => import("node:crypto"))
      expect(closed.statementSha256).toBe(createHash("sha256").update(statements.csv(statement)).digest("hex"))
    }).pipe(Effect.provide(billingOver(b)))
  })

  it.effect("waits for the batch lock, then gives up naming the run that holds it", () => {
    const b = books({
      succeeded: new Set(daysFrom("2025-10-01", "2025-10-31")),
      holder: { owner: "other", pid: 4242, host: "elsewhere", usageDate: "2025-11-04", acquiredAt: 0, expiresAt: 9e15 }
    })
    return Effect.gen(function*() {
      yield* at("2025-11-05T12:00:00Z")
      const months = yield* Months
      const fiber = yield* Effect.fork(Effect.flip(months.close("2025-10", "cli")))
      yield* TestClock.adjust("29 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("2 seconds")
      const refused = yield* Fiber.join(fiber)
      expect(refused._tag).toBe("MonthUnavailable")
      expect(refused.message).toContain("another batch run is in progress (day 2025-11-04, pid 4242 on elsewhere")
      expect(b.writes).toEqual([])
    }).pipe(Effect.provide(billingOver(b)))
  })
})

describe("reconcile before you invoice", () => {
  const gate = (missing: Array<string>, unreconciled: Array<string>) =>
    Layer.succeed(ReconciliationGate, { ofDays: () => Effect.succeed({ configured: true, missing, unreconciled }) })
  const october = () => books({ succeeded: new Set(daysFrom("2025-10-01", "2025-10-31")), rows: [row("2025-10-03", "anna", "1.5", "7.17")] })

  it.effect("a missing or never-reconciled day refuses the close, naming the days; nothing is written", () => {
    const b = october()
    return Effect.gen(function*() {
      yield* at("2025-11-05T12:00:00Z")
      const months = yield* Months
      const refused = yield* Effect.flip(months.close("2025-10", "cli", "FV/10"))
      expect(refused.message).toBe(
        "cannot close 2025-10: OpenRouter counted requests the ledger never received on 2025-10-03; 2025-10-05 to 2025-10-06 were never " +
          "reconciled; run `mai-usage reconcile --from 2025-10-01 --to 2025-10-31` (OpenRouter keeps 30 completed days), or close with " +
          "--accept-unreconciled --reason …"
      )
      const noReason = yield* Effect.flip(months.close("2025-10", "cli", undefined, { acceptUnreconciled: true }))
      expect(noReason.message).toMatch(/^closing 2025-10 with unreconciled days needs a reason/)
      expect(b.writes).toEqual([])
    }).pipe(Effect.provide(billingOver(b, {}, gate(["2025-10-03"], ["2025-10-05", "2025-10-06"]))))
  })

  it.effect("accepted with a reason: closed, and the days accepted are on the closing and its statement", () => {
    const b = october()
    return Effect.gen(function*() {
      yield* at("2025-11-05T12:00:00Z")
      const months = yield* Months
      const statements = yield* Statements
      const closed = yield* months.close("2025-10", "api", "OpenRouter confirmed by mail", { acceptUnreconciled: true })
      expect(closed.reconciliation).toBe("accepted unreconciled: OpenRouter counted requests the ledger never received on 2025-10-03")
      expect(closed.reason).toBe("OpenRouter confirmed by mail")
      expect(b.writes).toEqual(["close 2025-10"])
      const csv = statements.csv(yield* statements.build("2025-10"))
      expect(csv).toContain("reconciliation,,,,,,,,,,,,,,,,accepted unreconciled: OpenRouter counted requests the ledger never received on 2025-10-03")
    }).pipe(Effect.provide(billingOver(b, {}, gate(["2025-10-03"], []))))
  })

  it.effect("every day reconciled: closed as reconciled; without a management key: as not reconciled", () =>
    Effect.gen(function*() {
      const reconciled = yield* Effect.provide(
        Effect.zipRight(at("2025-11-05T12:00:00Z"), Effect.flatMap(Months, (m) => m.close("2025-10", "cli"))),
        billingOver(october(), {}, gate([], []))
      )
      expect(reconciled.reconciliation).toBe("reconciled with OpenRouter")
      const without = yield* Effect.provide(
        Effect.zipRight(at("2025-11-05T12:00:00Z"), Effect.flatMap(Months, (m) => m.close("2025-10", "cli"))),
        billingOver(october())
      )
      expect(without.reconciliation).toBe("not reconciled (no OpenRouter management key)")
    }))
})

describe("markup history", () => {
  it.effect("building it and reading from it writes nothing (only serve records a change)", () => {
    const b = books({ markups: [{ id: 1, effectiveFrom: "0001-01-01", multiplier: "1.3", recordedAt: "x" }] })
    return Effect.gen(function*() {
      const history = yield* MarkupHistory
      expect(yield* history.markupFor("2025-10-01")).toBe("1.3")
      expect(b.writes).toEqual([])
    }).pipe(Effect.provide(billingOver(b, { markup: dec("1.5") })))
  })

  it.effect("records a changed markup from its effective day; earlier days keep theirs", () => {
    const b = books({ markups: [{ id: 1, effectiveFrom: "0001-01-01", multiplier: "1.3", recordedAt: "x" }] })
    return Effect.gen(function*() {
      yield* at("2025-11-20T10:00:00Z")
      const history = yield* MarkupHistory
      yield* history.recordConfigured
      yield* history.recordConfigured
      expect(b.writes).toEqual(["markup 1.5 from 2025-11-15"])
      expect(yield* history.markupFor("2025-11-14")).toBe("1.3")
      expect(yield* history.markupFor("2025-11-15")).toBe("1.5")
    }).pipe(Effect.provide(billingOver(b, { markup: dec("1.5"), markupEffectiveFrom: "2025-11-15" })))
  })

  it.effect("refuses an effective day inside a closed month, naming the variable", () => {
    const b = books({
      markups: [{ id: 1, effectiveFrom: "0001-01-01", multiplier: "1.3", recordedAt: "x" }],
      closings: [{ month: "2025-10", closedAt: "x", closedBy: "cli", reason: null, requests: 0, totalTokens: 0, costUsd: "0", costPln: "0", statementSha256: "", reconciliation: null }]
    })
    return Effect.gen(function*() {
      const history = yield* MarkupHistory
      const refused = yield* Effect.flip(history.recordConfigured)
      expect(refused._tag).toBe("ConfigInvalid")
      expect(refused.message).toMatch(/^USAGE_MARKUP_EFFECTIVE_FROM: 2025-10-20 is in or before the closed month 2025-10/)
      expect(b.writes).toEqual([])
    }).pipe(Effect.provide(billingOver(b, { markup: dec("1.5"), markupEffectiveFrom: "2025-10-20" })))
  })
})

describe("pricing", () => {
  it("rounds each row half up to the grosz; totals are sums of the rows", () => {
    const quote = { rate: dec("4.0000"), rateText: "4.0000", table: "1/A/NBP/2025", effectiveDate: "2025-01-02" } as const
    const agg = (costNusd: bigint) => ({ user: "u", model: "m", requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedTokens: 0, reasoningTokens: 0, costNusd })
    // 0.000961538 USD × 1.3 × 4 = 0.0049999976 → 0.00; 0.000961539 → 0.0050000028 → 0.01
    const a = priceRow(agg(961_538n), quote as never, "1.3")
    const c = priceRow(agg(961_539n), quote as never, "1.3")
    expect([a.costPln, c.costPln]).toEqual(["0.00", "0.01"])
    expect(totals([a, c])).toEqual({ totalUsd: "0.001923077", totalPln: "0.01" })
  })
})
