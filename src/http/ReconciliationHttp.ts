/** The handler of `ReconciliationApi`: the stored days, with `unchecked` for the days never checked. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Clock, Effect } from "effect"
import { formatUsd } from "../domain/Money.js"
import { completedWindow, dayStartMs, utcDay } from "../domain/Reconcile.js"
import { MaiApi } from "../api/Api.js"
import { InvalidQuery, unavailable } from "../api/ApiErrors.js"
import { OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { OpenRouterRepo } from "../openrouter/OpenRouterRepo.js"
import { ReconciledDay, ReconciledModel, Reconciliations } from "../api/ReconciliationApi.js"

export const ReconciliationApiLive = HttpApiBuilder.group(MaiApi, "reconciliation", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* OpenRouterRepo
    const api = yield* OpenRouterApi
    return handlers.handle("days", ({ urlParams }) =>
      Effect.gen(function*() {
        const window = completedWindow(yield* Clock.currentTimeMillis)
        const from = urlParams.from ?? window[0]
        const to = urlParams.to ?? window[window.length - 1]
        if (to < from) return yield* new InvalidQuery({ message: `to (${to}) is before from (${from})` })
        if (dayStartMs(to) - dayStartMs(from) > 366 * 86_400_000) {
          return yield* new InvalidQuery({ message: "at most 367 days at once" })
        }
        const stored = yield* repo.days(from, to).pipe(Effect.mapError(unavailable))
        const byDay = new Map(stored.map((d) => [d.date, d]))
        const days: Array<ReconciledDay> = []
        for (let t = dayStartMs(to); t >= dayStartMs(from); t -= 86_400_000) {
          const date = utcDay(t)
          const d = byDay.get(date)
          const models = (d?.models ?? []).map((m) =>
            new ReconciledModel({
              model: m.model,
              status: m.status,
              openRouterRequests: m.openRouterRequests,
              openRouterUsd: formatUsd(m.openRouterCostNusd),
              ledgerRequests: m.ledgerRequests,
              ledgerUsd: formatUsd(m.ledgerCostNusd),
              missingRequests: m.missingRequests,
              missingUsd: formatUsd(m.missingNusd)
            })
          )
          days.push(new ReconciledDay({
            date,
            status: d?.status ?? "unchecked",
            checkedAt: d?.checkedAt ?? null,
            lastSuccessAt: d?.lastSuccessAt ?? null,
            error: d?.error ?? null,
            missingRequests: (d?.models ?? []).reduce((n, m) => n + m.missingRequests, 0),
            missingUsd: formatUsd((d?.models ?? []).reduce((n, m) => n + m.missingNusd, 0n)),
            otherKeysRequests: d?.otherKeys.requests ?? 0,
            otherKeysUsd: formatUsd(d?.otherKeys.costNusd ?? 0n),
            models
          }))
        }
        const checked = stored.map((d) => d.checkedAt).sort()
        return new Reconciliations({
          configured: api.hasManagementKey,
          lastCheckAt: checked.length === 0 ? null : checked[checked.length - 1],
          days
        })
      }))
  }))
