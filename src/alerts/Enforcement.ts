/**
 * Enforcement (`BUDGET_ENFORCE=openrouter`): the client's PLN budget as a `limit` (USD) on each of
 * the client's OpenRouter keys, through `PATCH /keys/{hash}`:
 *
 *   remaining PLN = budget − this month's spend (never below 0)
 *   remaining USD = remaining PLN ÷ (latest NBP rate × markup in force), rounded down to the cent
 *   limit         = the key's usage in its current limit period + remaining USD (to the cent, down)
 *
 * The usage of the period is the one OpenRouter reports for the key's `limit_reset` (daily, weekly,
 * monthly, or all-time when it never resets). Applied at each evaluation of the current month;
 * lifted (null) when the client budget is removed. Only a change is sent; every change is recorded
 * (sent or failed, and why). A failure is recorded and tried again next time, never raised: billing
 * and alerts go on.
 */
import { BigDecimal, Clock, Effect } from "effect"
import { MarkupHistory } from "../billing/MarkupHistory.js"
import { SummaryRepo } from "../billing/SummaryRepo.js"
import { formatDecimal } from "../domain/Money.js"
import { dayOf } from "../domain/WarsawDay.js"
import { type ApiKeyInfo, OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { Reconciler } from "../openrouter/Reconciler.js"
import { AppConfig } from "../platform/Config.js"
import { NbpRate } from "../rates/NbpRate.js"

/** The usage OpenRouter counts against the key's limit: that of its limit period. */
export const periodUsage = (k: ApiKeyInfo): number => {
  switch (k.limit_reset) {
    case "daily":
      return k.usage_daily ?? 0
    case "weekly":
      return k.usage_weekly ?? 0
    case "monthly":
      return k.usage_monthly ?? 0
    default:
      return k.usage ?? 0
  }
}

const down2 = (d: BigDecimal.BigDecimal) => BigDecimal.round(d, { scale: 2, mode: "floor" })

/** The limit the rule gives, USD text with 2 decimals; and the remaining USD. */
export const limitFor = (options: {
  readonly amountPln: string
  readonly spendPln: string
  readonly rate: BigDecimal.BigDecimal
  readonly markup: string
  readonly usage: number
}) => {
  const remainingPln = BigDecimal.max(
    BigDecimal.subtract(BigDecimal.unsafeFromString(options.amountPln), BigDecimal.unsafeFromString(options.spendPln)),
    BigDecimal.fromBigInt(0n)
  )
  const remainingUsd = down2(BigDecimal.unsafeDivide(remainingPln, BigDecimal.multiply(options.rate, BigDecimal.unsafeFromString(options.markup))))
  const usage = BigDecimal.unsafeFromString(options.usage.toFixed(9))
  return {
    remainingPln: formatDecimal(remainingPln, 2),
    remainingUsd: formatDecimal(remainingUsd, 2),
    limitUsd: formatDecimal(down2(BigDecimal.sum(usage, remainingUsd)), 2)
  }
}

export interface ClientBudgetNow {
  readonly month: string
  /** undefined: no client budget (a limit this service set is lifted) */
  readonly budget: { readonly amountPln: string; readonly spendPln: string } | undefined
}

export class Enforcement extends Effect.Service<Enforcement>()("mai-usage/Enforcement", {
  effect: Effect.gen(function*() {
    const { api, config, markups, nbp, reconciler, repo } = yield* Effect.all({
      config: AppConfig,
      api: OpenRouterApi,
      reconciler: Reconciler,
      repo: SummaryRepo,
      nbp: NbpRate,
      markups: MarkupHistory
    })
    const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    const record = (keyHash: string, month: string, limitUsd: string | null, reason: string, error: string | null) =>
      Effect.flatMap(isoNow, (at) =>
        repo.recordLimitChange({ keyHash, month, limitUsd, reason, at, status: error === null ? "sent" : "failed", error })
      ).pipe(Effect.catchAll((e) => Effect.logWarning("enforcement: a change could not be recorded", { error: e.message })))

    const apply = (now: ClientBudgetNow): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (!config.alerts.enforce) return
        const hashes = yield* reconciler.keyHashes
        const keys = yield* api.listKeys
        const last = yield* repo.limitChanges(200)
        const today = dayOf(yield* Clock.currentTimeMillis, config.dailyBatchTimeZone)
        const figures = now.budget === undefined
          ? undefined
          : { quote: yield* nbp.latest, markup: yield* markups.markupFor(today), ...now.budget }
        for (const hash of hashes) {
          const key = keys.find((k) => k.hash === hash)
          if (key === undefined) {
            yield* record(hash, now.month, null, "the key is not in OpenRouter's keys list", "not found")
            continue
          }
          const current = key.limit ?? null
          if (figures === undefined) {
            // Lift only a limit this service set (its last recorded change for the key is a limit).
            const ours = last.find((c) => c.keyHash === hash && c.status === "sent")
            if (current === null || ours === undefined || ours.limitUsd === null) continue
            const reason = "the client budget was removed: the limit is lifted"
            yield* api.setKeyLimit(hash, null).pipe(
              Effect.matchEffect({
                onSuccess: () => record(hash, now.month, null, reason, null),
                onFailure: (e) => record(hash, now.month, null, reason, e.message)
              })
            )
            continue
          }
          const usage = periodUsage(key)
          const rule = limitFor({ amountPln: figures.amountPln, spendPln: figures.spendPln, rate: figures.quote.rate, markup: figures.markup, usage })
          if (current !== null && current.toFixed(2) === rule.limitUsd) continue
          const reason = `${now.month}: budget PLN ${figures.amountPln}, spent PLN ${figures.spendPln}, remaining PLN ${rule.remainingPln} ` +
            `= USD ${rule.remainingUsd} at NBP ${figures.quote.table} ${figures.quote.rateText} × markup ${figures.markup}; ` +
            `key usage USD ${usage.toFixed(2)} (${key.limit_reset ?? "no reset"})`
          yield* api.setKeyLimit(hash, Number(rule.limitUsd)).pipe(
            Effect.matchEffect({
              onSuccess: () => record(hash, now.month, rule.limitUsd, reason, null),
              onFailure: (e) => record(hash, now.month, rule.limitUsd, reason, e.message)
            })
          )
        }
      }).pipe(
        Effect.catchAll((e) =>
          Effect.zipRight(
            Effect.logWarning("enforcement: the keys' limits could not be updated; tried again at the next evaluation", { error: e.message }),
            record("-", now.month, null, "the keys' limits could not be updated", e.message)
          )
        )
      )

    return { apply } as const
  })
}) {}

/** For tests and for processes without OpenRouter: enforcement that does nothing. */
export const NoEnforcement = Effect.succeed(Enforcement.make({ apply: () => Effect.void }))
