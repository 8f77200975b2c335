/**
 * The billing tables of the summary database and their history: daily rows, the rates used, batch
 * runs, the batch lock, markup history, closed months, their audit, adjustments. Migrations are
 * history: never edited, only added to. They are recorded in `effect_sql_migrations`, where
 * databases from before reconciliation had its own record also hold reconciliation's 7–9: the next
 * billing migration is `0010_…` or later.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { migrationsLayer } from "../platform/Sqlite.js"
import { SummaryDb } from "../store/SummaryDb.js"

export const billingMigrations = {
  "0001_summary": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      // Money and rates are decimal TEXT; cost_nusd keeps the exact integer the text came from.
      sql`CREATE TABLE daily_usage (
        usage_date TEXT NOT NULL,
        client_org_id TEXT NOT NULL,
        user TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_nusd INTEGER NOT NULL,
        cost_usd TEXT NOT NULL,
        markup TEXT NOT NULL,
        rate TEXT NOT NULL,
        rate_table TEXT NOT NULL,
        rate_date TEXT NOT NULL,
        cost_pln TEXT NOT NULL,
        batch_run_id INTEGER,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (usage_date, client_org_id, user, model)
      )`,
      sql`CREATE TABLE exchange_rates (
        usage_date TEXT NOT NULL,
        rule TEXT NOT NULL,
        rate TEXT NOT NULL,
        table_no TEXT NOT NULL,
        effective_date TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (usage_date, rule)
      )`,
      sql`CREATE TABLE batch_runs (
        id INTEGER PRIMARY KEY,
        usage_date TEXT NOT NULL,
        client_org_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        events INTEGER,
        rows_written INTEGER,
        corrections INTEGER,
        rate TEXT,
        rate_table TEXT,
        markup TEXT,
        source TEXT,
        code_version TEXT,
        error TEXT
      )`,
      sql`CREATE INDEX batch_runs_day ON batch_runs (usage_date, status)`
    ], { discard: true })),
  // One batch run at a time across processes (server, CLI, API): at most one row, held by its owner
  // until released or until expires_at passes without a heartbeat (a crashed holder).
  "0002_batch_lock": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE batch_lock (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      owner TEXT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      usage_date TEXT NOT NULL,
      acquired_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    )`.pipe(Effect.asVoid)),
  // Accounting periods. The markup in force from a Warsaw day on; a later entry with
  // the same effective_from wins (ordered by id).
  "0003_markup_history": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE markup_history (
      id INTEGER PRIMARY KEY,
      effective_from TEXT NOT NULL,
      multiplier TEXT NOT NULL,
      recorded_at TEXT NOT NULL
    )`.pipe(Effect.asVoid)),
  // A closed month: present while closed; reopening deletes it. The closing record keeps the totals
  // and the SHA-256 of the statement CSV as it was when closed.
  "0004_closed_months": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE closed_months (
      client_org_id TEXT NOT NULL,
      month TEXT NOT NULL,
      closed_at TEXT NOT NULL,
      closed_by TEXT NOT NULL,
      reason TEXT,
      requests INTEGER NOT NULL,
      total_tokens INTEGER NOT NULL,
      cost_usd TEXT NOT NULL,
      cost_pln TEXT NOT NULL,
      statement_sha256 TEXT NOT NULL,
      PRIMARY KEY (client_org_id, month)
    )`.pipe(Effect.asVoid)),
  // Every close and reopen, never deleted.
  "0005_month_audit": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE month_audit (
      id INTEGER PRIMARY KEY,
      client_org_id TEXT NOT NULL,
      month TEXT NOT NULL,
      action TEXT NOT NULL,
      at TEXT NOT NULL,
      by TEXT NOT NULL,
      reason TEXT,
      cost_usd TEXT,
      cost_pln TEXT,
      statement_sha256 TEXT
    )`.pipe(Effect.asVoid)),
  // Differences found for days of closed months, booked into the first open month after them; priced
  // at the original day's rate and markup. Signed: a negative delta is a credit.
  "0006_adjustments": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE adjustments (
        id INTEGER PRIMARY KEY,
        client_org_id TEXT NOT NULL,
        month TEXT NOT NULL,
        original_date TEXT NOT NULL,
        user TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_nusd INTEGER NOT NULL,
        cost_usd TEXT NOT NULL,
        markup TEXT NOT NULL,
        rate TEXT NOT NULL,
        rate_table TEXT NOT NULL,
        rate_date TEXT NOT NULL,
        cost_pln TEXT NOT NULL,
        reason TEXT NOT NULL,
        batch_run_id INTEGER,
        created_at TEXT NOT NULL
      )`,
      sql`CREATE INDEX adjustments_month ON adjustments (client_org_id, month)`,
      sql`CREATE INDEX adjustments_day ON adjustments (client_org_id, original_date)`
    ], { discard: true })),
  // How the month stood with OpenRouter's reconciliation when it was closed (reconciled, not
  // reconciled, or accepted with its days and the closer's reason). Numbered after reconciliation's
  // 7–9, which databases from before the split recorded in this table too.
  "0010_close_reconciliation": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`ALTER TABLE closed_months ADD COLUMN reconciliation TEXT`,
      sql`ALTER TABLE month_audit ADD COLUMN reconciliation TEXT`
    ], { discard: true })),
  // The name of the person who closed the month (given at close: `--by`, the dashboard's
  // confirmation, the API's body); null where none was given (and for closes before it was asked).
  "0011_closer_name": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`ALTER TABLE closed_months ADD COLUMN closer_name TEXT`,
      sql`ALTER TABLE month_audit ADD COLUMN closer_name TEXT`
    ], { discard: true })),
  // Budgets in PLN per Warsaw month (scope client | group | user; subject '' for the client), the
  // thresholds each fired once per subject and month, every delivery attempt of an alert, and every
  // change of an OpenRouter key's limit made by enforcement.
  "0012_budgets": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE budgets (
        id INTEGER PRIMARY KEY,
        client_org_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        amount_pln TEXT NOT NULL,
        thresholds TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (client_org_id, scope, subject)
      )`,
      sql`CREATE TABLE budget_alerts (
        id INTEGER PRIMARY KEY,
        client_org_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        month TEXT NOT NULL,
        threshold INTEGER NOT NULL,
        spend_pln TEXT NOT NULL,
        amount_pln TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (client_org_id, scope, subject, month, threshold)
      )`,
      sql`CREATE TABLE alert_attempts (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT
      )`,
      sql`CREATE INDEX alert_attempts_alert ON alert_attempts (alert_id)`,
      sql`CREATE TABLE budget_limits (
        id INTEGER PRIMARY KEY,
        client_org_id TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        month TEXT NOT NULL,
        limit_usd TEXT,
        reason TEXT NOT NULL,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT
      )`
    ], { discard: true }))
}

/** Applies billing's migrations to the summary DB. */
export const BillingDbLive = migrationsLayer(SummaryDb, billingMigrations)
