/** The OpenRouter checks' rows in the summary DB: reconciliations, key snapshots, small state. */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { DayStatus, ModelReconciliation, ModelStatus } from "../domain/Reconcile.js"
import { dayStatus } from "../domain/Reconcile.js"
import { ReconciliationDbLive } from "./migrations.js"
import { SummaryDb } from "../store/SummaryDb.js"

export class OpenRouterRepoError extends Schema.TaggedError<OpenRouterRepoError>()("OpenRouterRepoError", {
  message: Schema.String
}) {}

export interface StoredModel {
  readonly model: string
  readonly status: ModelStatus
  readonly openRouterRequests: number
  readonly openRouterCostNusd: bigint
  readonly ledgerRequests: number
  readonly ledgerCostNusd: bigint
  readonly missingRequests: number
  readonly missingNusd: bigint
  readonly checkedAt: string
}

/** What the ledger received for keys that are not the client's: reported apart, never compared. */
export interface OtherKeys {
  readonly requests: number
  readonly costNusd: bigint
}

export interface StoredDay {
  readonly otherKeys: OtherKeys
  readonly date: string
  readonly status: DayStatus
  readonly checkedAt: string
  readonly lastSuccessAt: string | null
  readonly error: string | null
  /** the models of the last successful check (kept while later attempts are unavailable) */
  readonly models: ReadonlyArray<StoredModel>
}

export interface KeySnapshot {
  readonly takenAt: number
  readonly utcDay: string
  readonly usageNusd: bigint
  readonly usageDailyNusd: bigint
  readonly ledgerDayNusd: bigint
  readonly intervalStart: number | null
  readonly intervalOpenRouterNusd: bigint | null
  readonly intervalLedgerNusd: bigint | null
}

const failed = (what: string) => (e: unknown) =>
  new OpenRouterRepoError({ message: `summary DB ${what} failed: ${String((e as { cause?: unknown }).cause ?? e)}` })

export class OpenRouterRepo extends Effect.Service<OpenRouterRepo>()("mai-usage/OpenRouterRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SummaryDb
    const exact = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideService(e, SqlClient.SafeIntegers, true)

    const saveSuccess = (
      day: string,
      hashes: ReadonlyArray<string>,
      models: ReadonlyArray<ModelReconciliation>,
      other: OtherKeys,
      at: string
    ) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`DELETE FROM reconciliations WHERE usage_date = ${day}`
        for (const m of models) {
          yield* sql`INSERT INTO reconciliations ${
            sql.insert({
              usage_date: day,
              model: m.model,
              status: m.status,
              openrouter_requests: m.openRouter.requests,
              openrouter_cost_nusd: m.openRouter.costNusd,
              ledger_requests: m.ledger.requests,
              ledger_cost_nusd: m.ledger.costNusd,
              missing_requests: m.missingRequests,
              missing_nusd: m.missingNusd,
              checked_at: at
            })
          }`
        }
        const status = dayStatus(models)
        yield* sql`INSERT INTO reconciliation_days (usage_date, status, checked_at, last_success_at, api_key_hash, error,
            other_requests, other_nusd)
          VALUES (${day}, ${status}, ${at}, ${at}, ${hashes.join(",")}, NULL, ${other.requests}, ${other.costNusd})
          ON CONFLICT (usage_date) DO UPDATE SET status = excluded.status, checked_at = excluded.checked_at,
            last_success_at = excluded.last_success_at, api_key_hash = excluded.api_key_hash, error = NULL,
            other_requests = excluded.other_requests, other_nusd = excluded.other_nusd`
      })).pipe(Effect.mapError(failed("write")))

    /** Records the attempt only: the models' rows of the last success stay as they were. */
    const saveUnavailable = (day: string, error: string, at: string) =>
      sql`INSERT INTO reconciliation_days (usage_date, status, checked_at, last_success_at, api_key_hash, error)
        VALUES (${day}, 'unavailable', ${at}, NULL, NULL, ${error})
        ON CONFLICT (usage_date) DO UPDATE SET status = 'unavailable', checked_at = excluded.checked_at, error = excluded.error`
        .pipe(Effect.asVoid, Effect.mapError(failed("write")))

    const days = (from: string, to: string) =>
      exact(Effect.gen(function*() {
        const dayRows = yield* sql<{
          usage_date: string
          status: DayStatus
          checked_at: string
          last_success_at: string | null
          error: string | null
          other_requests: bigint | null
          other_nusd: bigint | null
        }>`SELECT usage_date, status, checked_at, last_success_at, error, other_requests, other_nusd FROM reconciliation_days
            WHERE usage_date >= ${from} AND usage_date <= ${to} ORDER BY usage_date`
        const modelRows = yield* sql<{
          usage_date: string
          model: string
          status: ModelStatus
          openrouter_requests: bigint
          openrouter_cost_nusd: bigint
          ledger_requests: bigint
          ledger_cost_nusd: bigint
          missing_requests: bigint
          missing_nusd: bigint
          checked_at: string
        }>`SELECT * FROM reconciliations WHERE usage_date >= ${from} AND usage_date <= ${to} ORDER BY usage_date, model`
        return dayRows.map((d): StoredDay => ({
          date: d.usage_date,
          status: d.status,
          checkedAt: d.checked_at,
          lastSuccessAt: d.last_success_at,
          error: d.error,
          otherKeys: { requests: Number(d.other_requests ?? 0), costNusd: BigInt(d.other_nusd ?? 0) },
          models: modelRows.filter((m) => m.usage_date === d.usage_date).map((m) => ({
            model: m.model,
            status: m.status,
            openRouterRequests: Number(m.openrouter_requests),
            openRouterCostNusd: BigInt(m.openrouter_cost_nusd),
            ledgerRequests: Number(m.ledger_requests),
            ledgerCostNusd: BigInt(m.ledger_cost_nusd),
            missingRequests: Number(m.missing_requests),
            missingNusd: BigInt(m.missing_nusd),
            checkedAt: m.checked_at
          }))
        }))
      })).pipe(Effect.mapError(failed("read")))

    const getState = (name: string) =>
      sql<{ value: string }>`SELECT value FROM openrouter_state WHERE name = ${name}`.pipe(
        Effect.map((r) => (r.length === 0 ? undefined : (JSON.parse(r[0].value) as unknown))),
        Effect.mapError(failed("read"))
      )
    const setState = (name: string, value: unknown) =>
      sql`INSERT INTO openrouter_state (name, value, updated_at) VALUES (${name}, ${JSON.stringify(value)}, ${new Date().toISOString()})
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
        .pipe(Effect.asVoid, Effect.mapError(failed("write")))

    const addSnapshot = (s: KeySnapshot) =>
      sql`INSERT INTO key_snapshots ${
        sql.insert({
          taken_at: s.takenAt,
          utc_day: s.utcDay,
          usage_nusd: s.usageNusd,
          usage_daily_nusd: s.usageDailyNusd,
          ledger_day_nusd: s.ledgerDayNusd,
          interval_start: s.intervalStart,
          interval_openrouter_nusd: s.intervalOpenRouterNusd,
          interval_ledger_nusd: s.intervalLedgerNusd
        })
      }`.pipe(Effect.asVoid, Effect.mapError(failed("write")))

    const latestSnapshot = exact(
      sql<{
        taken_at: bigint
        utc_day: string
        usage_nusd: bigint
        usage_daily_nusd: bigint
        ledger_day_nusd: bigint
        interval_start: bigint | null
        interval_openrouter_nusd: bigint | null
        interval_ledger_nusd: bigint | null
      }>`SELECT * FROM key_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1`
    ).pipe(
      Effect.map((rows): KeySnapshot | undefined => {
        const r = rows[0]
        if (r === undefined) return undefined
        return {
          takenAt: Number(r.taken_at),
          utcDay: r.utc_day,
          usageNusd: BigInt(r.usage_nusd),
          usageDailyNusd: BigInt(r.usage_daily_nusd),
          ledgerDayNusd: BigInt(r.ledger_day_nusd),
          intervalStart: r.interval_start === null ? null : Number(r.interval_start),
          intervalOpenRouterNusd: r.interval_openrouter_nusd === null ? null : BigInt(r.interval_openrouter_nusd),
          intervalLedgerNusd: r.interval_ledger_nusd === null ? null : BigInt(r.interval_ledger_nusd)
        }
      }),
      Effect.mapError(failed("read"))
    )

    return { saveSuccess, saveUnavailable, days, getState, setState, addSnapshot, latestSnapshot }
  }),
  dependencies: [ReconciliationDbLive]
}) {}
