/**
 * Reconciliation's tables in the summary DB (reconciliations, reconciliation_days, key_snapshots,
 * openrouter_state), read and written only by `OpenRouterRepo.ts`. Their migrations are recorded
 * apart from billing's, in `reconciliation_migrations`. Databases made before that recorded 7–9 in
 * the shared `effect_sql_migrations`: `adoptEarlierRecord` copies those entries over first, so they
 * are never applied twice.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { migrationsLayer } from "../platform/Sqlite.js"
import { SummaryDb } from "../store/SummaryDb.js"

const TABLE = "reconciliation_migrations"

export const openRouterMigrations = {
  // Per (UTC day, model): the last successful comparison. Per day: the last attempt, which may be
  // `unavailable` without touching the models' rows of the last success.
  "0007_reconciliations": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE reconciliations (
        usage_date TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
        openrouter_requests INTEGER NOT NULL, openrouter_cost_nusd INTEGER NOT NULL,
        ledger_requests INTEGER NOT NULL, ledger_cost_nusd INTEGER NOT NULL,
        missing_requests INTEGER NOT NULL, missing_nusd INTEGER NOT NULL, checked_at TEXT NOT NULL,
        PRIMARY KEY (usage_date, model)
      )`,
      sql`CREATE TABLE reconciliation_days (
        usage_date TEXT PRIMARY KEY, status TEXT NOT NULL, checked_at TEXT NOT NULL,
        last_success_at TEXT, api_key_hash TEXT, error TEXT
      )`
    ], { discard: true })),
  // Hourly snapshots of GET /key beside what the ledger received in the same interval.
  "0008_key_snapshots": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE key_snapshots (
      id INTEGER PRIMARY KEY, taken_at INTEGER NOT NULL, utc_day TEXT NOT NULL,
      usage_nusd INTEGER NOT NULL, usage_daily_nusd INTEGER NOT NULL,
      ledger_day_nusd INTEGER NOT NULL, interval_start INTEGER, interval_openrouter_nusd INTEGER,
      interval_ledger_nusd INTEGER
    )`.pipe(Effect.asVoid)),
  // Small facts about this client's OpenRouter set-up (the key hash found, the destination connected,
  // the last destination check), as JSON values; never a secret.
  // Per day: what the ledger received for keys that are not the client's (reported apart, never
  // compared), and the client's key hashes compared.
  "0010_other_keys": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`ALTER TABLE reconciliation_days ADD COLUMN other_requests INTEGER`,
      sql`ALTER TABLE reconciliation_days ADD COLUMN other_nusd INTEGER`
    ], { discard: true })),
  "0009_openrouter_state": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE openrouter_state (
      name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL
    )`.pipe(Effect.asVoid))
}

const adoptEarlierRecord = Effect.gen(function*() {
  const sql = yield* SummaryDb
  const shared = yield* sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'effect_sql_migrations'`
  if (Number(shared[0].n) === 0) return
  yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    migration_id integer PRIMARY KEY NOT NULL,
    created_at datetime NOT NULL DEFAULT current_timestamp,
    name VARCHAR(255) NOT NULL
  )`)
  yield* sql.unsafe(`INSERT OR IGNORE INTO ${TABLE} (migration_id, created_at, name)
    SELECT migration_id, created_at, name FROM effect_sql_migrations WHERE migration_id IN (7, 8, 9)`)
})

/** Applies reconciliation's migrations to the summary DB. */
export const ReconciliationDbLive = migrationsLayer(SummaryDb, openRouterMigrations, TABLE).pipe(
  Layer.provide(Layer.effectDiscard(Effect.orDie(adoptEarlierRecord)))
)
