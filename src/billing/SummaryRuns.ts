/** The batch runs of the summary DB (batch_runs): starting, failing, listing, and the days a catch-up owes. */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { addDays } from "../domain/WarsawDay.js"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed, type SummaryDbError } from "../store/SummaryDb.js"
import { type BatchRun, type BatchRunRecord, toBatchRun, type Trigger } from "../api/BatchRun.js"

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

export interface SummaryRuns {
  readonly startRun: (run: StartRun) => Effect.Effect<number, SummaryDbError>
  readonly failRun: (runId: number, error: string, at: string) => Effect.Effect<void, SummaryDbError>
  readonly listRuns: (limit: number) => Effect.Effect<ReadonlyArray<BatchRun>, SummaryDbError>
  readonly lastSuccess: (clientOrgId: string) => Effect.Effect<Option.Option<BatchRun>, SummaryDbError>
  /** Days in [from, to] with no successful run, oldest first. */
  readonly catchUpCandidates: (
    clientOrgId: string,
    from: string,
    to: string
  ) => Effect.Effect<ReadonlyArray<CatchUpCandidate>, SummaryDbError>
}

export const summaryRuns = (sql: SqlClient.SqlClient): SummaryRuns => {
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

  return { startRun, failRun, listRuns, lastSuccess, catchUpCandidates }
}
