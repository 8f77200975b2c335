/**
 * The caching shared by the NBP service and the app's `NbpRate` layer:
 * - the latest table lives `cacheTtl`; a refresh that fails keeps the last good
 *   table and marks it stale (retrying upstream at most every `retryAfter`);
 * - the answer for a past usage day is immutable: cached without expiry in a
 *   bounded cache; an answer that can still change (today's) lives `pendingTtl`;
 * - concurrent requests for one key share one upstream call;
 * - failures are never cached.
 */
import { Cache, Clock, Duration, Effect, Exit, Option, SynchronizedRef } from "effect"
import {
  candidateRange,
  type ExchangeRateRule,
  firstNbpDay,
  type NbpTable,
  selectTable
} from "../domain/RateRule.js"
import { warsawDay, warsawToday } from "../domain/WarsawDay.js"
import type { NbpApi } from "./NbpApi.js"
import { NbpRateError } from "./NbpRateError.js"
import type { CachedTable } from "./RateQuote.js"
import { makeSingleFlight } from "./SingleFlight.js"

/** Where tables come from: NBP itself, or the NBP service. */
export interface RateSource {
  readonly latest: Effect.Effect<SourcedTable, NbpRateError>
  readonly select: (day: string, rule: ExchangeRateRule) => Effect.Effect<SourcedTable, NbpRateError>
}

export interface SourcedTable {
  readonly table: NbpTable
  /** the source itself served a stale fallback */
  readonly stale: boolean
}

/**
 * A set of tables up to `end` is final once `end` is a past Warsaw day: NBP
 * publishes a day's table on that day and never afterwards.
 */
export const isFinal = (end: string, today: string): boolean => end < today

const notFound = (message: string) => new NbpRateError({ reason: "not-found", message })

/** Selection straight from NBP: fetch the candidate range and apply the rule. */
export const directSource = (api: NbpApi): RateSource => ({
  latest: Effect.map(api.latest, (table) => ({ table, stale: false })),
  select: (day, rule) =>
    Effect.gen(function*() {
      const today = yield* warsawToday
      const candidates = candidateRange(day, rule)
      const start = candidates.start < firstNbpDay ? firstNbpDay : candidates.start
      // NBP has nothing after today; asking for future days only risks a 400.
      const end = candidates.end > today ? today : candidates.end
      if (end < firstNbpDay || start > end) {
        return yield* Effect.fail(notFound(`no NBP table A for ${day} under ${rule}`))
      }
      const tables = yield* api.range(start, end).pipe(
        Effect.catchIf((error) => error.reason === "not-found", () => Effect.succeed([]))
      )
      return yield* Option.match(selectTable(tables, day, rule), {
        onNone: () => Effect.fail(notFound(`no NBP table A for ${day} under ${rule}`)),
        onSome: (table) => Effect.succeed({ table, stale: false })
      })
    })
})

export interface RateCacheOptions {
  readonly cacheTtl: Duration.DurationInput
  /** after a failed refresh, how long the stale value is served before upstream is tried again */
  readonly retryAfter?: Duration.DurationInput
  /** lifetime of an answer that may still change (its days include today) */
  readonly pendingTtl?: Duration.DurationInput
  /** how many dated answers are kept */
  readonly capacity?: number
}

export interface RateCache {
  /** the latest table: cached, refreshed after `cacheTtl`, stale on failure */
  readonly latest: Effect.Effect<CachedTable, NbpRateError>
  /** refresh the latest table now (the NBP service's periodic fetch) */
  readonly refreshLatest: Effect.Effect<CachedTable, NbpRateError>
  readonly select: (day: string, rule: ExchangeRateRule) => Effect.Effect<CachedTable, NbpRateError>
  /** the latest table held, without touching upstream */
  readonly peekLatest: Effect.Effect<Option.Option<CachedTable>>
  /**
   * The latest table if it is still fresh, read synchronously (no fiber):
   * a server's hot path; `undefined` means "run `latest`".
   */
  readonly unsafeFreshLatest: () => CachedTable | undefined
  readonly size: Effect.Effect<number>
  readonly clear: Effect.Effect<void>
}

interface LatestEntry {
  readonly cached: CachedTable
  /** until when this entry is served without asking upstream */
  readonly freshUntil: number
}

type SelectKey = `${string}|${ExchangeRateRule}`

export const makeRateCache = (source: RateSource, options: RateCacheOptions): Effect.Effect<RateCache> =>
  Effect.gen(function*() {
    const ttl = Duration.toMillis(options.cacheTtl)
    const retryAfter = Math.min(ttl, Duration.toMillis(options.retryAfter ?? Duration.seconds(30)))
    const pendingTtl = Duration.decode(options.pendingTtl ?? Duration.minutes(5))

    const latestRef = yield* SynchronizedRef.make(Option.none<LatestEntry>())
    // a synchronous mirror of latestRef, written only where latestRef is written
    let latestMirror: LatestEntry | undefined
    const setLatest = (entry: Option.Option<LatestEntry>) => {
      latestMirror = Option.getOrUndefined(entry)
      return entry
    }
    const clock = yield* Effect.clock

    const refreshLatest = yield* makeSingleFlight(
      Effect.gen(function*() {
        const result = yield* Effect.either(source.latest)
        const now = yield* Clock.currentTimeMillis
        return yield* SynchronizedRef.modifyEffect(latestRef, (previous) => {
          if (result._tag === "Right") {
            const cached: CachedTable = { table: result.right.table, fetchedAt: now, stale: result.right.stale }
            return Effect.succeed([cached, setLatest(Option.some({ cached, freshUntil: now + ttl }))] as const)
          }
          if (Option.isNone(previous)) {
            // nothing to fall back on: the caller gets the error, no rate is invented
            return Effect.fail(result.left)
          }
          const cached: CachedTable = { ...previous.value.cached, stale: true }
          return Effect.logWarning("latest NBP table refresh failed; serving the last good table as stale").pipe(
            Effect.annotateLogs({ table: cached.table.no, error: result.left.message }),
            Effect.as([cached, setLatest(Option.some({ cached, freshUntil: now + retryAfter }))] as const)
          )
        })
      })
    )

    const latest = Effect.flatMap(
      Effect.zip(SynchronizedRef.get(latestRef), Clock.currentTimeMillis),
      ([entry, now]) =>
        Option.isSome(entry) && now <= entry.value.freshUntil ? Effect.succeed(entry.value.cached) : refreshLatest
    )

    const selections = yield* Cache.makeWith({
      capacity: options.capacity ?? 20_000,
      lookup: (key: SelectKey) => {
        const [day, rule] = key.split("|") as [string, ExchangeRateRule]
        return Effect.zipWith(
          source.select(day, rule),
          Clock.currentTimeMillis,
          (sourced, fetchedAt): CachedTable & { readonly final: boolean } => ({
            table: sourced.table,
            fetchedAt,
            stale: sourced.stale,
            final: isFinal(candidateRange(day, rule).end, warsawDay(fetchedAt)) && !sourced.stale
          })
        )
      },
      timeToLive: (exit) =>
        Exit.isSuccess(exit) ? (exit.value.final ? Duration.infinity : pendingTtl) : Duration.zero
    })

    const select = (day: string, rule: ExchangeRateRule) => {
      const key: SelectKey = `${day}|${rule}`
      return selections.get(key).pipe(
        // the cache keeps a failed lookup until the clock moves on; drop it now
        Effect.tapError(() => selections.invalidate(key)),
        Effect.map(({ fetchedAt, stale, table }): CachedTable => ({ table, fetchedAt, stale }))
      )
    }

    return {
      latest,
      refreshLatest,
      select,
      peekLatest: Effect.map(SynchronizedRef.get(latestRef), Option.map((entry) => entry.cached)),
      unsafeFreshLatest: () =>
        latestMirror !== undefined && clock.unsafeCurrentTimeMillis() <= latestMirror.freshUntil
          ? latestMirror.cached
          : undefined,
      size: selections.size,
      clear: Effect.zipRight(selections.invalidateAll, SynchronizedRef.set(latestRef, setLatest(Option.none())))
    }
  })
