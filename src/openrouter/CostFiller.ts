/**
 * Pending costs, filled from OpenRouter's own record of each generation (`GET /generation?id=…`,
 * its `total_cost`). Never on the webhook's path: `serve` asks every few minutes for events older
 * than a minute (OpenRouter's record appears a few seconds after the request), and an operator runs
 * the same with `mai-usage costs fill`. A generation OpenRouter cannot give yet stays pending and
 * is asked again next time; nothing is ever assumed.
 */
import { Clock, Duration, Effect, Either, Layer, Schedule } from "effect"
import { nanoUsdFromNumber } from "../domain/Money.js"
import { Metrics } from "../platform/Metrics.js"
import { Readiness } from "../platform/Readiness.js"
import { Ledger } from "../store/Ledger.js"
import { OpenRouterApi } from "./OpenRouterApi.js"

export interface FillReport {
  /** pending costs asked about */
  readonly asked: number
  readonly filled: number
  /** why the first few could not be filled (one line each) */
  readonly failures: ReadonlyArray<string>
  /** pending costs left in the ledger afterwards */
  readonly pending: number
}

/** How often `serve` fills, and how old a pending cost is before it is asked about. */
export const FILL_EVERY = Duration.minutes(5)
export const FILL_AFTER = Duration.minutes(1)

export class CostFiller extends Effect.Service<CostFiller>()("mai-usage/CostFiller", {
  effect: Effect.gen(function*() {
    const ledger = yield* Ledger
    const api = yield* OpenRouterApi

    /** Asks OpenRouter for the pending costs received before `olderThan` ago, at most `limit`. */
    const fill = (options: { readonly olderThan?: Duration.DurationInput; readonly limit?: number } = {}) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const before = now - Duration.toMillis(options.olderThan ?? FILL_AFTER)
        const ids = yield* ledger.pendingIds(options.limit ?? 500, before)
        let filled = 0
        const failures: Array<string> = []
        for (const id of ids) {
          const answer = yield* Effect.either(api.generation(id))
          if (Either.isLeft(answer)) {
            failures.push(`${id.slice(0, 64)}: ${answer.left.message}`)
            // Without a key, or with a key OpenRouter refuses, the rest would fail the same way.
            if (answer.left.reason === "not-configured" || answer.left.reason === "unauthorized") break
            continue
          }
          const cost = nanoUsdFromNumber(answer.right.total_cost)
          if (Either.isLeft(cost) || cost.right < 0n) {
            failures.push(`${id.slice(0, 64)}: OpenRouter's total_cost is not a valid cost`)
            continue
          }
          if (yield* ledger.fillCost(id, cost.right)) filled++
        }
        const pending = yield* ledger.pendingCount()
        return { asked: ids.length, filled, failures: failures.slice(0, 5), pending } satisfies FillReport
      })

    return { fill } as const
  }),
  dependencies: [OpenRouterApi.Default]
}) {}

/**
 * For `serve`: the filler every few minutes (a failed round is logged, never stops the schedule),
 * the count on /metrics, and /ready degraded while costs are pending.
 */
export const CostFillerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const filler = yield* CostFiller
    const ledger = yield* Ledger
    const metrics = yield* Metrics
    const readiness = yield* Readiness
    const gauge = metrics.gauge("mai_ledger_pending_costs", "Stored requests whose cost is still pending (not sent by Broadcast)")
    metrics.onScrape(ledger.pendingCount().pipe(Effect.tap((n) => gauge.set(n)), Effect.ignore))
    readiness.register(
      "pendingCosts",
      ledger.pendingCount().pipe(
        Effect.map((n) => ({
          ok: true,
          status: n > 0 ? "degraded" : "ok",
          pending: n,
          ...(n > 0 ? { fill: "mai-usage costs fill", check: "mai-usage openrouter check" } : {})
        })),
        Effect.catchAll((e) => Effect.succeed({ ok: true, status: "unknown", error: e.message }))
      )
    )
    const round = filler.fill().pipe(
      Effect.tap((r) =>
        r.asked === 0
          ? Effect.void
          : Effect.logInfo("pending costs filled from OpenRouter", { asked: r.asked, filled: r.filled, pending: r.pending, failures: r.failures })
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("filling pending costs failed", { error: String(cause).split("\n")[0] }))
    )
    yield* Effect.forkScoped(Effect.repeat(round, Schedule.spaced(FILL_EVERY)))
  })
).pipe(Layer.provide(CostFiller.Default))
