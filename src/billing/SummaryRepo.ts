/**
 * Billing's one repository of the summary database: the only code that names its billing tables
 * (`migrations.ts`). One service over its groups of tables, each in its own file: the day rows and
 * what a run commits (`SummaryDays.ts`, with the corrections rule), the run records
 * (`SummaryRuns.ts`), the cross-process batch lock (`SummaryLock.ts`) and the accounting periods —
 * markup history, closed months, their audit, adjustments (`SummaryMonths.ts`). Every query is
 * scoped to this container's client organisation.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../platform/Config.js"
import { summaryDbFailed as failed, SummaryDb, type SummaryDbError } from "../store/SummaryDb.js"
import { BillingDbLive } from "./migrations.js"
import { type SummaryBudgets, summaryBudgets } from "./SummaryBudgets.js"
import { type SummaryDays, summaryDays, upsertRowWith } from "./SummaryDays.js"
import { type SummaryLock, summaryLock } from "./SummaryLock.js"
import { type SummaryMonths, summaryMonths } from "./SummaryMonths.js"
import { type SummaryRuns, summaryRuns } from "./SummaryRuns.js"

export type { BatchRun, RunStatus, Trigger } from "../api/BatchRun.js"
export type { CommitClosedDay, CommitDay, Committed, CommittedAdjustments, DayRow, RateUsed, RowFilter } from "./SummaryDays.js"
export type { LockHolder } from "./SummaryLock.js"
export type { AlertAttempt, AlertRecord, AttemptStatus, Budget, BudgetScope, FiredAlert, LimitChange } from "./SummaryBudgets.js"
export type { Adjustment, AuditEntry, ClosedBy, ClosingRecord } from "./SummaryMonths.js"
export type { CatchUpCandidate, DayHistoryRecord, StartRun } from "./SummaryRuns.js"

export interface SummaryRepoShape extends SummaryDays, SummaryRuns, SummaryLock, SummaryMonths, SummaryBudgets {
  /** Succeeds when the summary DB answers and its migrations are applied (for /ready). */
  readonly check: Effect.Effect<void, SummaryDbError>
}

export const make = Effect.gen(function*() {
  const sql = yield* SummaryDb
  const { clientOrgId } = yield* AppConfig
  const repo: SummaryRepoShape = {
    ...summaryRuns(sql, clientOrgId),
    ...summaryDays(sql, clientOrgId),
    ...summaryLock(sql),
    ...summaryMonths(sql, clientOrgId, upsertRowWith(sql)),
    ...summaryBudgets(sql, clientOrgId),
    check: sql`SELECT count(*) AS n FROM batch_lock`.pipe(Effect.asVoid, Effect.mapError(failed("check")))
  }
  return repo
})

/** Over `SummaryDb` (chosen at wiring), with billing's migrations applied. */
export class SummaryRepo extends Effect.Service<SummaryRepo>()("mai-usage/SummaryRepo", {
  effect: make,
  dependencies: [BillingDbLive]
}) {}

/** A repository over given functions (tests: a fake over no database). */
export const fake = (repo: Partial<SummaryRepoShape>) => Layer.succeed(SummaryRepo, SummaryRepo.make(repo as SummaryRepoShape))
