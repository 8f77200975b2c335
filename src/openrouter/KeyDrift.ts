/**
 * Key drift: hourly snapshots of `GET /key` (the key's cumulative `usage` and the current UTC
 * day's `usage_daily`, USD) beside the cost the usage store holds for the same span, by event
 * time: since the previous snapshot (when it is at most 2 hours old), and since 00:00 UTC.
 * A positive drift means OpenRouter billed the key more than reached us. Minutes-old requests may
 * still be on their way, so a small drift in the newest hour is normal; a lasting one is not.
 */
import { DateTime, Effect, Either } from "effect"
import { AppConfig } from "../platform/Config.js"
import { formatUsd, nanoUsdFromNumber } from "../domain/Money.js"
import { dayStartMs, utcDay } from "../domain/Reconcile.js"
import { UsageStore } from "../store/UsageStore.js"
import { OpenRouterApi, OpenRouterError } from "./OpenRouterApi.js"
import { type KeySnapshot, OpenRouterRepo } from "./OpenRouterRepo.js"

const MAX_INTERVAL_MS = 2 * 3_600_000

const usd = (what: string, n: number) =>
  Either.match(nanoUsdFromNumber(n), {
    onLeft: (e) => Effect.fail(new OpenRouterError({ reason: "bad-response", status: 200, message: `GET /key ${what}: ${e}` })),
    onRight: Effect.succeed
  })

/** Takes one snapshot now and stores it. */
export const takeSnapshot = Effect.gen(function*() {
  const config = yield* AppConfig
  const api = yield* OpenRouterApi
  const repo = yield* OpenRouterRepo
  const store = yield* UsageStore
  const key = yield* api.currentKey
  const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
  const usage = yield* usd("usage", key.usage)
  const usageDaily = yield* usd("usage_daily", key.usage_daily)
  const previous = yield* repo.latestSnapshot
  const cost = (start: number, end: number) =>
    store.aggregate({ clientOrgId: config.clientOrgId, start: DateTime.unsafeMake(start), end: DateTime.unsafeMake(end) }).pipe(
      Effect.map((rows) => rows.reduce((n, r) => n + r.costNusd, 0n))
    )
  const day = utcDay(now)
  const ledgerDay = yield* cost(dayStartMs(day), now + 1)
  const withInterval = previous !== undefined && previous.takenAt < now && now - previous.takenAt <= MAX_INTERVAL_MS
  const snapshot: KeySnapshot = {
    takenAt: now,
    utcDay: day,
    usageNusd: usage,
    usageDailyNusd: usageDaily,
    ledgerDayNusd: ledgerDay,
    intervalStart: withInterval ? previous.takenAt : null,
    intervalOpenRouterNusd: withInterval ? usage - previous.usageNusd : null,
    intervalLedgerNusd: withInterval ? yield* cost(previous.takenAt, now) : null
  }
  yield* repo.addSnapshot(snapshot)
  return snapshot
})

const signed = (n: bigint) => (n < 0n ? `-${formatUsd(-n)}` : formatUsd(n))

/** The newest snapshot as the API shows it beside "today so far"; null when there is none. */
export const driftView = (s: KeySnapshot | undefined) =>
  s === undefined
    ? null
    : {
      takenAt: new Date(s.takenAt).toISOString(),
      utcDay: s.utcDay,
      openRouterUsd: formatUsd(s.usageDailyNusd),
      ledgerUsd: formatUsd(s.ledgerDayNusd),
      driftUsd: signed(s.usageDailyNusd - s.ledgerDayNusd),
      interval: s.intervalStart === null || s.intervalOpenRouterNusd === null || s.intervalLedgerNusd === null
        ? null
        : {
          from: new Date(s.intervalStart).toISOString(),
          to: new Date(s.takenAt).toISOString(),
          openRouterUsd: signed(s.intervalOpenRouterNusd),
          ledgerUsd: formatUsd(s.intervalLedgerNusd),
          driftUsd: signed(s.intervalOpenRouterNusd - s.intervalLedgerNusd)
        }
    }
