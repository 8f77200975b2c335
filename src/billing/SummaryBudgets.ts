/**
 * The budgets' tables of the summary DB (`migrations.ts` 0012): budgets, the thresholds fired
 * (once per subject, month and threshold: the UNIQUE key decides, so two evaluations at once never
 * send one twice), every delivery attempt of an alert, and every change of a key's limit made by
 * enforcement. Scoped to this container's client organisation.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { summaryDbFailed as failed, type SummaryDbError } from "../store/SummaryDb.js"

export type BudgetScope = "client" | "group" | "user"

export interface Budget {
  readonly scope: BudgetScope
  /** '' for the client; a group's id or name; a user's id or e-mail */
  readonly subject: string
  /** decimal text, 2 places */
  readonly amountPln: string
  /** per cent, ascending */
  readonly thresholds: ReadonlyArray<number>
  readonly updatedAt: string
}

export interface FiredAlert {
  readonly scope: BudgetScope
  readonly subject: string
  readonly month: string
  readonly threshold: number
  readonly spendPln: string
  readonly amountPln: string
  readonly at: string
}

export type AttemptStatus = "sent" | "failed"

export interface AlertAttempt {
  readonly alertId: number
  readonly channel: string
  readonly attempt: number
  readonly at: string
  readonly status: AttemptStatus
  readonly error: string | null
}

export interface AlertRecord extends FiredAlert {
  readonly id: number
  readonly attempts: ReadonlyArray<Omit<AlertAttempt, "alertId">>
}

export interface LimitChange {
  readonly keyHash: string
  readonly month: string
  /** null: the limit lifted */
  readonly limitUsd: string | null
  readonly reason: string
  readonly at: string
  readonly status: AttemptStatus
  readonly error: string | null
}

export interface SummaryBudgets {
  readonly budgets: Effect.Effect<ReadonlyArray<Budget>, SummaryDbError>
  readonly setBudget: (b: Budget) => Effect.Effect<void, SummaryDbError>
  /** true when there was one */
  readonly removeBudget: (scope: BudgetScope, subject: string) => Effect.Effect<boolean, SummaryDbError>
  /** The alert's id when this call fired it; undefined when it had fired before. */
  readonly fireAlert: (a: FiredAlert) => Effect.Effect<number | undefined, SummaryDbError>
  readonly recordAttempt: (a: AlertAttempt) => Effect.Effect<void, SummaryDbError>
  /** The latest alerts, newest first, with their attempts. */
  readonly alerts: (limit: number) => Effect.Effect<ReadonlyArray<AlertRecord>, SummaryDbError>
  readonly recordLimitChange: (c: LimitChange) => Effect.Effect<void, SummaryDbError>
  readonly limitChanges: (limit: number) => Effect.Effect<ReadonlyArray<LimitChange>, SummaryDbError>
}

interface BudgetRow {
  readonly scope: BudgetScope
  readonly subject: string
  readonly amount_pln: string
  readonly thresholds: string
  readonly updated_at: string
}

interface AlertRow {
  readonly id: number
  readonly scope: BudgetScope
  readonly subject: string
  readonly month: string
  readonly threshold: number
  readonly spend_pln: string
  readonly amount_pln: string
  readonly created_at: string
}

interface AttemptRow {
  readonly alert_id: number
  readonly channel: string
  readonly attempt: number
  readonly at: string
  readonly status: AttemptStatus
  readonly error: string | null
}

interface LimitRow {
  readonly key_hash: string
  readonly month: string
  readonly limit_usd: string | null
  readonly reason: string
  readonly at: string
  readonly status: AttemptStatus
  readonly error: string | null
}

export const summaryBudgets = (sql: SqlClient.SqlClient, org: string): SummaryBudgets => ({
  budgets: sql<BudgetRow>`SELECT scope, subject, amount_pln, thresholds, updated_at FROM budgets
    WHERE client_org_id = ${org} ORDER BY scope, subject`.pipe(
    Effect.map((rows) =>
      rows.map((r) => ({
        scope: r.scope,
        subject: r.subject,
        amountPln: r.amount_pln,
        thresholds: r.thresholds.split(",").map(Number),
        updatedAt: r.updated_at
      }))
    ),
    Effect.mapError(failed("budgets"))
  ),
  setBudget: (b) =>
    sql`INSERT INTO budgets (client_org_id, scope, subject, amount_pln, thresholds, updated_at)
      VALUES (${org}, ${b.scope}, ${b.subject}, ${b.amountPln}, ${b.thresholds.join(",")}, ${b.updatedAt})
      ON CONFLICT (client_org_id, scope, subject) DO UPDATE SET
        amount_pln = excluded.amount_pln, thresholds = excluded.thresholds, updated_at = excluded.updated_at`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("budget set"))
    ),
  removeBudget: (scope, subject) =>
    sql<{ id: number }>`DELETE FROM budgets WHERE client_org_id = ${org} AND scope = ${scope} AND subject = ${subject} RETURNING id`.pipe(
      Effect.map((rows) => rows.length > 0),
      Effect.mapError(failed("budget remove"))
    ),
  fireAlert: (a) =>
    sql<{ id: number }>`INSERT INTO budget_alerts (client_org_id, scope, subject, month, threshold, spend_pln, amount_pln, created_at)
      VALUES (${org}, ${a.scope}, ${a.subject}, ${a.month}, ${a.threshold}, ${a.spendPln}, ${a.amountPln}, ${a.at})
      ON CONFLICT (client_org_id, scope, subject, month, threshold) DO NOTHING RETURNING id`.pipe(
      Effect.map((rows) => (rows.length === 0 ? undefined : Number(rows[0].id))),
      Effect.mapError(failed("alert record"))
    ),
  recordAttempt: (a) =>
    sql`INSERT INTO alert_attempts (alert_id, channel, attempt, at, status, error)
      VALUES (${a.alertId}, ${a.channel}, ${a.attempt}, ${a.at}, ${a.status}, ${a.error})`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("alert attempt record"))
    ),
  alerts: (limit) =>
    Effect.gen(function*() {
      const alerts = yield* sql<AlertRow>`SELECT id, scope, subject, month, threshold, spend_pln, amount_pln, created_at
        FROM budget_alerts WHERE client_org_id = ${org} ORDER BY id DESC LIMIT ${limit}`
      if (alerts.length === 0) return []
      const attempts = yield* sql<AttemptRow>`SELECT alert_id, channel, attempt, at, status, error FROM alert_attempts
        WHERE alert_id IN ${sql.in(alerts.map((a) => a.id))} ORDER BY id`
      return alerts.map((a) => ({
        id: Number(a.id),
        scope: a.scope,
        subject: a.subject,
        month: a.month,
        threshold: Number(a.threshold),
        spendPln: a.spend_pln,
        amountPln: a.amount_pln,
        at: a.created_at,
        attempts: attempts.filter((t) => Number(t.alert_id) === Number(a.id)).map((t) => ({
          channel: t.channel,
          attempt: Number(t.attempt),
          at: t.at,
          status: t.status,
          error: t.error
        }))
      }))
    }).pipe(Effect.mapError(failed("alerts"))),
  recordLimitChange: (c) =>
    sql`INSERT INTO budget_limits (client_org_id, key_hash, month, limit_usd, reason, at, status, error)
      VALUES (${org}, ${c.keyHash}, ${c.month}, ${c.limitUsd}, ${c.reason}, ${c.at}, ${c.status}, ${c.error})`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("limit change record"))
    ),
  limitChanges: (limit) =>
    sql<LimitRow>`SELECT key_hash, month, limit_usd, reason, at, status, error FROM budget_limits
      WHERE client_org_id = ${org} ORDER BY id DESC LIMIT ${limit}`.pipe(
      Effect.map((rows) =>
        rows.map((r) => ({
          keyHash: r.key_hash,
          month: r.month,
          limitUsd: r.limit_usd,
          reason: r.reason,
          at: r.at,
          status: r.status,
          error: r.error
        }))
      ),
      Effect.mapError(failed("limit changes"))
    )
})
