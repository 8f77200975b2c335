/** The batch runs of the summary DB (batch_runs): starting, failing, listing, and the days a catch-up owes. */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { addDays } from "../domain/WarsawDay.js"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed, type SummaryDbError } from "../store/SummaryDb.js"
import { BatchRun, type RunStatus, type Trigger } from "../api/BatchRun.js"

type Int = bigint | number

/** A `batch_runs` row as SQLite returns it (`SELECT *`), with or without safe integers. */
export interface BatchRunRecord {
  readonly id: Int
  readonly usage_date: string
  readonly trigger: string
  readonly status: string
  readonly started_at: string
  readonly finished_at: string | null
  readonly events: Int | null
  readonly rows_written: Int | null
  readonly corrections: Int | null
  readonly rate: string | null
  readonly rate_table: string | null
  readonly markup: string | null
  readonly source: string | null
  readonly error: string | null
}

const num = (v: Int | null) => (v === null ? null : Number(v))

export const toBatchRun = (r: BatchRunRecord): BatchRun =>
  new BatchRun({
    id: Number(r.id),
    usageDate: r.usage_date,
    trigger: r.trigger as Trigger,
    status: r.status as RunStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    events: num(r.events),
    rowsWritten: num(r.rows_written),
    corrections: num(r.corrections),
    rate: r.rate,
    rateTable: r.rate_table,
    markup: r.markup,
    source: r.source,
    error: r.error
  })

export interface StartRun {
  readonly usageDate: string
  readonly clientOrgId: string
  readonly trigger: Trigger
  readonly startedAt: string
  readonly markup: string
  readonly source: string
  readonly codeVersion: string
}

/** A day without a successful run, and whether an earlier day has one (so it was missed, not unused). */
export interface CatchUpCandidate {
  readonly day: string
  readonly followsSuccess: boolean
}

export interface DayHistoryRecord {
  readonly usage_date: string
  readonly corrected_at: string | null
  readonly corrections: number | null
  readonly last_status: string
  readonly last_error: string | null
  readonly last_finished: string | null
}

export interface SummaryRuns {
  readonly startRun: (run: StartRun) => Effect.Effect<number, SummaryDbError>
  readonly failRun: (runId: number, error: string, at: string) => Effect.Effect<void, SummaryDbError>
  /**
   * Runs still `running` when the batch lock is taken belong to a process that died holding it
   * (only the holder runs): each becomes `failed` with the reason `interrupted`; how many.
   */
  readonly failInterrupted: (at: string) => Effect.Effect<number, SummaryDbError>
  readonly listRuns: (limit: number) => Effect.Effect<ReadonlyArray<BatchRun>, SummaryDbError>
  readonly lastSuccess: (clientOrgId: string) => Effect.Effect<Option.Option<BatchRun>, SummaryDbError>
  /** The newest run of this client (of a status, of a day), or null. */
  readonly lastRun: (filter?: { readonly status?: RunStatus; readonly usageDate?: string }) => Effect.Effect<BatchRun | null, SummaryDbError>
  /** Days of [from, to] with at least one successful run (this client's). */
  readonly succeededDays: (from: string, to: string) => Effect.Effect<ReadonlySet<string>, SummaryDbError>
  /**
   * Per day of [from, to] with runs: when its figures were last corrected (a successful run that
   * changed rows, or that booked adjustments for a closed day), and its newest run.
   */
  readonly dayHistory: (from: string, to: string) => Effect.Effect<ReadonlyArray<DayHistoryRecord>, SummaryDbError>
  /** Days in [from, to] with no successful run, oldest first. */
  readonly catchUpCandidates: (
    clientOrgId: string,
    from: string,
    to: string
  ) => Effect.Effect<ReadonlyArray<CatchUpCandidate>, SummaryDbError>
}

export const summaryRuns = (sql: SqlClient.SqlClient, clientOrgId: string): SummaryRuns => {
  const startRun: SummaryRuns["startRun"] = (run) =>
    sql<{ id: number }>`INSERT INTO batch_runs (usage_date, client_org_id, trigger, started_at, status, markup, source,
        code_version)
      VALUES (${run.usageDate}, ${run.clientOrgId}, ${run.trigger}, ${run.startedAt}, 'running', ${run.markup},
        ${run.source}, ${run.codeVersion})
      RETURNING id`.pipe(Effect.map((r) => Number(r[0].id)), Effect.mapError(failed("write")))

  const failRun: SummaryRuns["failRun"] = (runId, error, at) =>
    sql`UPDATE batch_runs SET status = 'failed', finished_at = ${at}, error = ${error} WHERE id = ${runId}`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("write"))
    )

  const failInterrupted: SummaryRuns["failInterrupted"] = (at) =>
    sql`UPDATE batch_runs SET status = 'failed', finished_at = ${at}, error = 'interrupted'
      WHERE status = 'running' AND client_org_id = ${clientOrgId}`.raw.pipe(
      Effect.map((r) => Number((r as { changes: number }).changes)),
      Effect.mapError(failed("write"))
    )

  const listRuns: SummaryRuns["listRuns"] = (limit) =>
    exact(sql<BatchRunRecord>`SELECT * FROM batch_runs ORDER BY id DESC LIMIT ${limit}`).pipe(
      Effect.map((rows) => rows.map(toBatchRun)),
      Effect.mapError(failed("read"))
    )

  const lastSuccess: SummaryRuns["lastSuccess"] = (clientOrgId) =>
    exact(sql<BatchRunRecord>`SELECT * FROM batch_runs WHERE client_org_id = ${clientOrgId} AND status = 'succeeded'
      ORDER BY id DESC LIMIT 1`).pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toBatchRun)),
      Effect.mapError(failed("read"))
    )

  const catchUpCandidates: SummaryRuns["catchUpCandidates"] = (clientOrgId, from, to) =>
    Effect.gen(function*() {
      const succeeded = yield* sql<{ usage_date: string }>`SELECT DISTINCT usage_date FROM batch_runs
        WHERE client_org_id = ${clientOrgId} AND status = 'succeeded' AND usage_date <= ${to}`
      const done = new Set(succeeded.map((r) => r.usage_date))
      const first = succeeded.reduce<string | undefined>((m, r) => (m === undefined || r.usage_date < m ? r.usage_date : m), undefined)
      const out: Array<CatchUpCandidate> = []
      for (let d = from; d <= to; d = addDays(d, 1)) {
        if (!done.has(d)) out.push({ day: d, followsSuccess: first !== undefined && first < d })
      }
      return out
    }).pipe(Effect.mapError(failed("read")))

  const lastRun: SummaryRuns["lastRun"] = (filter = {}) => {
    const conditions = [sql`client_org_id = ${clientOrgId}`]
    if (filter.status !== undefined) conditions.push(sql`status = ${filter.status}`)
    if (filter.usageDate !== undefined) conditions.push(sql`usage_date = ${filter.usageDate}`)
    return sql<BatchRunRecord>`SELECT * FROM batch_runs WHERE ${sql.and(conditions)} ORDER BY started_at DESC, id DESC LIMIT 1`.pipe(
      Effect.map((records) => (records.length === 0 ? null : toBatchRun(records[0]))),
      Effect.mapError(failed("read"))
    )
  }

  const succeededDays: SummaryRuns["succeededDays"] = (from, to) =>
    sql<{ usage_date: string }>`SELECT DISTINCT usage_date FROM batch_runs WHERE client_org_id = ${clientOrgId}
      AND status = 'succeeded' AND usage_date >= ${from} AND usage_date <= ${to}`.pipe(
      Effect.map((rows) => new Set(rows.map((r) => r.usage_date))),
      Effect.mapError(failed("read"))
    )

  const dayHistory: SummaryRuns["dayHistory"] = (from, to) =>
    sql<DayHistoryRecord>`
      SELECT d.usage_date,
        (SELECT max(finished_at) FROM batch_runs c WHERE c.client_org_id = ${clientOrgId} AND c.usage_date = d.usage_date
          AND c.status = 'succeeded' AND c.corrections > 0) AS corrected_at,
        (SELECT sum(corrections) FROM batch_runs c WHERE c.client_org_id = ${clientOrgId} AND c.usage_date = d.usage_date
          AND c.status = 'succeeded') AS corrections,
        l.status AS last_status, l.error AS last_error, l.finished_at AS last_finished
      FROM (SELECT usage_date, max(id) AS last_id FROM batch_runs WHERE client_org_id = ${clientOrgId}
        AND usage_date >= ${from} AND usage_date <= ${to} GROUP BY usage_date) d
      JOIN batch_runs l ON l.id = d.last_id
      ORDER BY d.usage_date`.pipe(Effect.mapError(failed("read")))

  return { startRun, failRun, failInterrupted, listRuns, lastSuccess, lastRun, succeededDays, dayHistory, catchUpCandidates }
}
