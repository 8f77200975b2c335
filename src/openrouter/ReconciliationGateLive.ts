/** Billing's `ReconciliationGate`, from the stored reconciliations (see `billing/ReconciliationGate.ts`). */
import { Effect, Layer } from "effect"
import { ReconciliationGate } from "../billing/ReconciliationGate.js"
import { daysFrom } from "../domain/WarsawDay.js"
import { AppConfig } from "../platform/Config.js"
import { OpenRouterRepo } from "./OpenRouterRepo.js"

export const ReconciliationGateLive = Layer.effect(
  ReconciliationGate,
  Effect.gen(function*() {
    const config = yield* AppConfig
    const repo = yield* OpenRouterRepo
    return ReconciliationGate.of({
      ofDays: (from, to) =>
        config.openRouter.managementKey === undefined
          ? Effect.succeed({ configured: false, missing: [], unreconciled: [] })
          : Effect.map(repo.days(from, to), (stored) => {
            const byDay = new Map(stored.map((d) => [d.date, d]))
            const days = daysFrom(from, to)
            return {
              configured: true,
              missing: days.filter((d) => byDay.get(d)?.status === "missing"),
              unreconciled: days.filter((d) => {
                const s = byDay.get(d)
                return s === undefined || (s.status === "unavailable" && s.models.length === 0)
              })
            }
          })
    })
  })
).pipe(Layer.provide(OpenRouterRepo.Default))
