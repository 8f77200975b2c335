/**
 * One client's month at a glance (`GET /api/v1/admin/overview/:month`, read by the reseller's
 * console through the typed contract): billed PLN and USD equal the month summary's totals,
 * OpenRouter's cost is each billed row's USD at its own NBP rate without the markup rounded to the
 * grosz, the margin is their exact difference, and the month's state says whether `close` would
 * take it now, and if not, why (naming the days), then who closed it.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { BigDecimal, Effect } from "effect"
import * as Crypto from "node:crypto"
import { describe, expect, it } from "vitest"
import { makeClient } from "../../src/api/Client.js"
import { ADMIN_TOKEN, postWebhook } from "../support/app.js"
import { useAppWithNbp } from "../support/appWithNbp.js"
import { delivery, deliveryOf } from "../support/otlp.js"

const env = useAppWithNbp()

const run = <A, E>(f: (api: Effect.Effect.Success<ReturnType<typeof makeClient>>) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.flatMap(makeClient(env.app.url, ADMIN_TOKEN), f).pipe(Effect.provide(FetchHttpClient.layer)))

const dec = BigDecimal.unsafeFromString
const text = (d: BigDecimal.BigDecimal) => BigDecimal.format(BigDecimal.scale(d, 2))

/** A delivery whose spans carry token counts but no cost: its cost is pending. */
const withoutCost = (generationId: string, at: string) => {
  const d = JSON.parse(delivery({ generationId, startNs: BigInt(Date.parse(at)) * 1_000_000n, user: "anna", model: "m/one", inputTokens: 10, outputTokens: 2 }))
  for (const rs of d.resourceSpans) {
    for (const ss of rs.scopeSpans) for (const span of ss.spans) span.attributes = span.attributes.filter((a: any) => a.key !== "gen_ai.usage.total_cost")
  }
  return JSON.stringify(d)
}

describe("the month overview", () => {
  it("bills, costs and margins a month exactly, says it is closable, then who closed it", async () => {
    const events = [
      { id: "ov-1", at: "2025-11-03T09:00:00.000Z", cost: "0.123457", user: "anna", model: "m/one" },
      { id: "ov-2", at: "2025-11-03T10:00:00.000Z", cost: "1.000001", user: "bob", model: "m/two" },
      { id: "ov-3", at: "2025-11-17T12:00:00.000Z", cost: "0.333333", user: "anna", model: "m/two" },
      { id: "ov-4", at: "2025-11-28T08:00:00.000Z", cost: "2.718281", user: "cyd", model: "m/one" }
    ]
    for (const e of events) expect((await postWebhook(env.app.url, deliveryOf(e))).status).toBe(200)

    // Before any run: open, not closable, the refusal names the days without a run.
    const before = await run((api) => api.overview.month({ path: { month: "2025-11" } }))
    expect(before.state).toMatchObject({ status: "open", closable: false, needsAcceptance: false, closedAt: null })
    expect(before.state.refusal).toContain("no successful batch run for 2025-11-01 to 2025-11-30")

    const ran = await run((api) => api.batch.run({ urlParams: { from: "2025-11-01", to: "2025-11-30" } }))
    expect(ran.results.every((r) => r.status === "succeeded")).toBe(true)

    const [overview, summary, daily] = await run((api) =>
      Effect.all([
        api.overview.month({ path: { month: "2025-11" } }),
        api.usage.summary({ urlParams: { month: "2025-11" } }),
        api.usage.daily({ urlParams: { from: "2025-11-01", to: "2025-11-30" } })
      ]))
    expect(overview.constructor.name).toBe("MonthOverview")
    expect(overview.billedPln).toBe(summary.totals.costPln)
    expect(overview.billedUsd).toBe(summary.totals.costUsd)
    expect(overview.requests).toBe(4)
    // OpenRouter's cost: each row's USD × its rate, no markup, half up to the grosz, summed.
    const expectedCost = daily.rows.reduce(
      (s, r) => BigDecimal.sum(s, BigDecimal.round(BigDecimal.multiply(dec(r.costUsd), dec(r.rate)), { scale: 2, mode: "half-from-zero" })),
      BigDecimal.fromBigInt(0n)
    )
    expect(daily.rows).toHaveLength(4)
    expect(overview.openRouterPln).toBe(text(expectedCost))
    expect(BigDecimal.equals(dec(overview.marginPln), BigDecimal.subtract(dec(overview.billedPln), dec(overview.openRouterPln)))).toBe(true)
    expect(BigDecimal.greaterThan(dec(overview.marginPln), BigDecimal.fromBigInt(0n))).toBe(true)
    const percent = BigDecimal.round(
      BigDecimal.unsafeDivide(BigDecimal.multiply(dec(overview.marginPln), dec("100")), dec(overview.billedPln)),
      { scale: 2, mode: "half-from-zero" }
    )
    expect(overview.marginPercent).toBe(text(percent))
    expect(overview.state).toMatchObject({ status: "open", closable: true, refusal: null })
    expect(overview.reconciliation).toMatchObject({ configured: false, daysMissing: 0, daysUnreconciled: 0 })
    expect(overview.lastBatchRun?.usageDate).toBe("2025-11-30")
    expect(overview.pendingCosts).toBe(0)
    expect(overview.quarantinedRows).toBe(0)
    expect(overview.budgetAlerts).toEqual([]) // no budget set
    // /ready as anyone sees it: names and statuses, the same as the app's own /ready.
    const ready = (await (await fetch(`${env.app.url}/ready`)).json()) as { checks: Record<string, unknown> }
    expect(overview.ready.ok).toBe(true)
    expect(Object.keys(overview.ready.checks).sort()).toEqual(Object.keys(ready.checks).sort())

    await run((api) => api.months.close({ path: { month: "2025-11" }, urlParams: {}, payload: null }))
    const closed = await run((api) => api.overview.month({ path: { month: "2025-11" } }))
    expect(closed.state).toMatchObject({ status: "closed", closable: false, closedBy: "api" })
    expect(closed.state.closedAt).not.toBeNull()
    expect(closed.billedPln).toBe(overview.billedPln)

    // The documents through the contract: the CSV whose SHA-256 the close recorded, the PDF's bytes.
    const [csv, pdf, months] = await run((api) =>
      Effect.all([
        api.documents.statementCsv({ path: { month: "2025-11" }, urlParams: {} }),
        api.documents.statementPdf({ path: { month: "2025-11" }, urlParams: {} }),
        api.months.list()
      ]))
    const byFormat = await (await fetch(`${env.app.url}/api/v1/statements/2025-11?format=csv&lang=en`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()
    expect(csv).toBe(byFormat)
    expect(Crypto.createHash("sha256").update(csv).digest("hex")).toBe(months.closed[0].statementSha256)
    expect(Buffer.from(pdf).subarray(0, 5).toString()).toBe("%PDF-")
  })

  it("counts the month's pending costs; a month with nothing billed has no margin percentage", async () => {
    expect((await postWebhook(env.app.url, withoutCost("ov-pending", "2025-10-20T10:00:00.000Z"))).status).toBe(200)
    const overview = await run((api) => api.overview.month({ path: { month: "2025-10" } }))
    expect(overview.pendingCosts).toBe(1)
    expect(overview).toMatchObject({ billedPln: "0.00", openRouterPln: "0.00", marginPln: "0.00", marginPercent: null })
    const refused = await run((api) => Effect.flip(api.overview.month({ path: { month: "2025-13" } as any })))
    expect(refused._tag).toBe("ParseError")
  })
})
