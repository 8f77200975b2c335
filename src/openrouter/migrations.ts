/** The summary DB's tables of the OpenRouter checks (keys 0007–0009). */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const openRouterMigrations = {
  // Per (UTC day, model): the last successful comparison. Per day: the last attempt, which may be
  // `unavailable` without touching the models' rows of the last success.
  "0007_reconciliations": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE reconciliations (
        usage_date TEXT NOT NULL,
        model TEXT NOT NULL,
        status TEXT NOT NULL,
        openrouter_requests INTEGER NOT NULL,
        openrouter_cost_nusd INTEGER NOT NULL,
        ledger_requests INTEGER NOT NULL,
        ledger_cost_nusd INTEGER NOT NULL,
        missing_requests INTEGER NOT NULL,
        missing_nusd INTEGER NOT NULL,
        checked_at TEXT NOT NULL,
        PRIMARY KEY (usage_date, model)
      )`,
      sql`CREATE TABLE reconciliation_days (
        usage_date TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        last_success_at TEXT,
        api_key_hash TEXT,
        error TEXT
      )`
    ], { discard: true })),
  // Hourly snapshots of GET /key beside what the ledger received in the same interval.
  "0008_key_snapshots": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE key_snapshots (
      id INTEGER PRIMARY KEY,
      taken_at INTEGER NOT NULL,
      utc_day TEXT NOT NULL,
      usage_nusd INTEGER NOT NULL,
      usage_daily_nusd INTEGER NOT NULL,
      ledger_day_nusd INTEGER NOT NULL,
      interval_start INTEGER,
      interval_openrouter_nusd INTEGER,
      interval_ledger_nusd INTEGER
    )`.pipe(Effect.asVoid)),
  // Small facts about this client's OpenRouter set-up (the key hash found, the destination connected,
  // the last destination check), as JSON values; never a secret.
  "0009_openrouter_state": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE openrouter_state (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`.pipe(Effect.asVoid))
}
