/**
 * Daily activity reconciliation: OpenRouter's `GET /activity` for one completed UTC day and the
 * client's key, against the usage store's events of the same UTC day, per model.
 *
 * Attribution by key: OpenRouter's activity of the client's keys (OPENROUTER_API_KEY_HASH, several
 * allowed; else the one key looked up) is compared with the ledger's events of those keys only.
 * Events carry key names, not hashes: the keys list (`GET /keys`) gives each hash its name, and
 * every name a key ever had is remembered, so a renamed key keeps its earlier events. Events of
 * other keys are reported apart ("other keys: n requests, x USD"), never as `extra`.
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
import { type OtherKeys, OpenRouterRepo, type OpenRouterRepoError } from "./OpenRouterRepo.js"

export interface DayResult {
  readonly date: string
  readonly status: DayStatus
  readonly models: ReadonlyArray<ModelReconciliation>
  /** the ledger's events of keys that are not the client's (null when unavailable) */
  readonly otherKeys: OtherKeys | null
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
    const found = yield* Ref.make(Option.fromNullable(config.openRouter.apiKeyHashes))

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

    /** The client's key hashes: OPENROUTER_API_KEY_HASH, else the one key looked up once with the management key. */
    const keyHashes: Effect.Effect<ReadonlyArray<string>, OpenRouterError> = Effect.flatMap(Ref.get(found), (h) =>
      Option.match(h, {
        onSome: Effect.succeed,
        onNone: () => Effect.tap(Effect.map(lookUp, (hash) => [hash]), (hashes) => Ref.set(found, Option.some(hashes)))
      }))

    const STATE_KEY_NAMES = "keyNames"

    /**
     * The API key names that are the client's keys: each hash's current name in the keys list, and
     * every name it had before (kept in `openrouter_state`, so a renamed key keeps its earlier
     * names: events delivered under the old name stay the key's).
     */
    const keyNames = (hashes: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const keys = yield* api.listKeys
        const known = ((yield* repo.getState(STATE_KEY_NAMES).pipe(Effect.orElseSucceed(() => undefined))) ?? {}) as Record<string, Array<string>>
        let changed = false
        for (const hash of hashes) {
          const name = keys.find((k) => k.hash === hash)?.name
          if (name == null || name === "") continue
          const names = known[hash] ?? []
          if (!names.includes(name)) {
            known[hash] = [...names, name]
            changed = true
          }
        }
        if (changed) yield* repo.setState(STATE_KEY_NAMES, known).pipe(Effect.catchAll(() => Effect.void))
        return new Set(hashes.flatMap((h) => known[h] ?? []))
      })

    /** OpenRouter's activity of the day for each of the client's keys, summed per model by `reconcileDay`. */
    const openRouterSide = (day: string, hashes: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const rows = []
        for (const hash of hashes) {
          const items = yield* api.activity(day, hash)
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
        }
        return rows
      })

    /**
     * The ledger's events of the UTC day, split by key name: the client's keys (compared, pending
     * costs as known requests with an unknown cost) and the others (reported apart).
     */
    const ledgerSide = (day: string, names: ReadonlySet<string>) =>
      Effect.gen(function*() {
        const start = dayStartMs(day)
        const window = {
          clientOrgId: config.clientOrgId,
          start: DateTime.unsafeMake(start),
          end: DateTime.unsafeMake(start + 86_400_000)
        }
        // InfluxDB mode: rows of the day still in the outbox would look missing.
        yield* store.ensureComplete(window)
        const known = yield* store.aggregateByKey(window)
        const pending = yield* store.pending(window)
        const rows = [
          ...known.map((a) => ({ apiKeyName: a.apiKeyName, model: a.model, requests: a.requests, costNusd: a.costNusd, pendingRequests: 0 })),
          ...pending.map((p) => ({ apiKeyName: p.apiKeyName, model: p.model, requests: p.requests, costNusd: 0n, pendingRequests: p.requests }))
        ]
        const mine = rows.filter((r) => names.has(r.apiKeyName))
        const others = rows.filter((r) => !names.has(r.apiKeyName))
        return {
          mine,
          other: { requests: others.reduce((n, r) => n + r.requests, 0), costNusd: others.reduce((n, r) => n + r.costNusd, 0n) }
        }
      })

    /** Compares one completed UTC day and stores the outcome; OpenRouter's failures become `unavailable`. */
    const reconcile = (day: string): Effect.Effect<DayResult, OpenRouterRepoError> =>
      Effect.gen(function*() {
        const outcome = yield* Effect.gen(function*() {
          const hashes = yield* keyHashes
          const or = yield* openRouterSide(day, hashes)
          const names = yield* keyNames(hashes)
          const ledger = yield* ledgerSide(day, names)
          return { hashes, or, ledger }
        }).pipe(Effect.either)
        const checkedAt = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
        if (Either.isLeft(outcome)) {
          const error = outcome.left.message
          yield* repo.saveUnavailable(day, error, checkedAt)
          yield* Effect.logWarning("reconciliation unavailable", { day, error })
          return { date: day, status: "unavailable" as const, models: [], otherKeys: null, error, checkedAt }
        }
        const { hashes, ledger, or } = outcome.right
        const models = reconcileDay(or, ledger.mine)
        yield* repo.saveSuccess(day, hashes, models, ledger.other, checkedAt)
        const status = dayStatus(models)
        if (status !== "ok") {
          yield* Effect.logWarning("reconciliation found a difference", {
            day,
            status,
            models: models.filter((m) => m.status !== "ok").map((m) => ({ model: m.model, status: m.status, missingRequests: m.missingRequests }))
          })
        }
        return { date: day, status, models, otherKeys: ledger.other, error: null, checkedAt }
      })

    return { reconcile, keyHashes }
  }),
  dependencies: [OpenRouterApi.Default, OpenRouterRepo.Default]
}) {}
