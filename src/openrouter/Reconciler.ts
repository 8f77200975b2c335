/**
 * Daily activity reconciliation: OpenRouter's `GET /activity` for one completed UTC day and the
 * client's key, against the usage store's events of the same UTC day, per model.
 *
 * Attribution: one container serves one client organisation with one OpenRouter key, so every
 * event of this container's usage store (CLIENT_ORG_ID) counts as that key's; events of other keys
 * are already kept out at ingestion by OPENROUTER_API_KEY_NAMES when it is set.
 *
 * A failure on either side (OpenRouter unreachable or refusing, the store unreadable or not yet
 * complete for the day) records the day as `unavailable` and leaves the models' rows of the last
 * successful comparison untouched: a failed check never writes a result.
 */
import { DateTime, Effect, Either, Option, Ref } from "effect"
import { AppConfig } from "../platform/Config.js"
import { nanoUsdFromNumber } from "../domain/Money.js"
import { dayStartMs, type DayStatus, dayStatus, type ModelReconciliation, reconcileDay } from "../domain/Reconcile.js"
import { UsageStore } from "../store/UsageStore.js"
import { OpenRouterApi, OpenRouterError } from "./OpenRouterApi.js"
import { OpenRouterRepo, type OpenRouterRepoError } from "./OpenRouterRepo.js"

export interface DayResult {
  readonly date: string
  readonly status: DayStatus
  readonly models: ReadonlyArray<ModelReconciliation>
  /** why the day is unavailable */
  readonly error: string | null
  readonly checkedAt: string
}

const notFound = (message: string) => new OpenRouterError({ reason: "rejected", status: null, message })

export class Reconciler extends Effect.Service<Reconciler>()("mai-usage/Reconciler", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const api = yield* OpenRouterApi
    const repo = yield* OpenRouterRepo
    const store = yield* UsageStore
    const found = yield* Ref.make(Option.fromNullable(config.openRouter.apiKeyHash))

    /**
     * The key's hash from the keys list: the key whose label equals the label `GET /key` reports for
     * OPENROUTER_API_KEY, else the key named like the one OPENROUTER_API_KEY_NAMES entry.
     */
    const lookUp = Effect.gen(function*() {
      const keys = (yield* api.listKeys).filter((k) => k.disabled !== true)
      if (api.hasApiKey) {
        const current = yield* api.currentKey
        const matches = keys.filter((k) => current.label != null && k.label === current.label)
        if (matches.length === 1) return matches[0].hash
        return yield* notFound(
          `OPENROUTER_API_KEY_HASH not set and ${matches.length === 0 ? "no" : "more than one"} key of the keys list ` +
            `has the label of OPENROUTER_API_KEY; set OPENROUTER_API_KEY_HASH to the key's hash`
        )
      }
      const names = config.apiKeyNames === undefined ? [] : [...config.apiKeyNames]
      if (names.length === 1) {
        const matches = keys.filter((k) => k.name === names[0])
        if (matches.length === 1) return matches[0].hash
      }
      return yield* notFound(
        "OPENROUTER_API_KEY_HASH not set and the client's key cannot be identified (set OPENROUTER_API_KEY, " +
          "or exactly one OPENROUTER_API_KEY_NAMES entry); set OPENROUTER_API_KEY_HASH to the key's hash"
      )
    })

    /** The client's key hash: OPENROUTER_API_KEY_HASH, else looked up once with the management key. */
    const keyHash: Effect.Effect<string, OpenRouterError> = Effect.flatMap(Ref.get(found), (h) =>
      Option.match(h, {
        onSome: Effect.succeed,
        onNone: () => Effect.tap(lookUp, (hash) => Ref.set(found, Option.some(hash)))
      }))

    const openRouterSide = (day: string) =>
      Effect.gen(function*() {
        const hash = yield* keyHash
        const items = yield* api.activity(day, hash)
        const rows = []
        for (const item of items) {
          // The date filter is OpenRouter's; a row of another day would mean we misread the answer.
          if (!item.date.startsWith(day)) {
            return yield* new OpenRouterError({ reason: "bad-response", status: 200, message: `activity for ${day} has a row of ${item.date}` })
          }
          const cost = nanoUsdFromNumber(item.usage)
          if (Either.isLeft(cost)) {
            return yield* new OpenRouterError({ reason: "bad-response", status: 200, message: `activity usage of ${item.model}: ${cost.left}` })
          }
          rows.push({ model: item.model, permaslug: item.model_permaslug ?? null, requests: item.requests, costNusd: cost.right })
        }
        return { hash, rows }
      })

    const ledgerSide = (day: string) =>
      Effect.gen(function*() {
        const start = dayStartMs(day)
        const window = {
          clientOrgId: config.clientOrgId,
          start: DateTime.unsafeMake(start),
          end: DateTime.unsafeMake(start + 86_400_000)
        }
        // InfluxDB mode: rows of the day still in the outbox would look missing.
        yield* store.ensureComplete(window)
        const aggregates = yield* store.aggregate(window)
        // Requests whose cost is pending are known requests with an unknown cost.
        const pending = yield* store.pendingByModel(window)
        return [
          ...aggregates.map((a) => ({ model: a.model, requests: a.requests, costNusd: a.costNusd })),
          ...pending.map((p) => ({ model: p.model, requests: p.requests, costNusd: 0n, pendingRequests: p.requests }))
        ]
      })

    /** Compares one completed UTC day and stores the outcome; OpenRouter's failures become `unavailable`. */
    const reconcile = (day: string): Effect.Effect<DayResult, OpenRouterRepoError> =>
      Effect.gen(function*() {
        const outcome = yield* Effect.all([openRouterSide(day), ledgerSide(day)], { concurrency: 2 }).pipe(Effect.either)
        const checkedAt = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
        if (Either.isLeft(outcome)) {
          const error = outcome.left.message
          yield* repo.saveUnavailable(day, error, checkedAt)
          yield* Effect.logWarning("reconciliation unavailable", { day, error })
          return { date: day, status: "unavailable" as const, models: [], error, checkedAt }
        }
        const [or, ledger] = outcome.right
        const models = reconcileDay(or.rows, ledger)
        yield* repo.saveSuccess(day, or.hash, models, checkedAt)
        const status = dayStatus(models)
        if (status !== "ok") {
          yield* Effect.logWarning("reconciliation found a difference", {
            day,
            status,
            models: models.filter((m) => m.status !== "ok").map((m) => ({ model: m.model, status: m.status, missingRequests: m.missingRequests }))
          })
        }
        return { date: day, status, models, error: null, checkedAt }
      })

    return { reconcile, keyHash }
  }),
  dependencies: [OpenRouterApi.Default, OpenRouterRepo.Default]
}) {}
