/**
 * The batch's reads and writes of the summary DB, one service over three jobs: the day rows and
 * what a run commits (`SummaryDays.ts`, with the corrections rule), the run records
 * (`SummaryRuns.ts`) and the cross-process batch lock (`SummaryLock.ts`). Tables in `store/SummaryDb.ts`.
 */
import { Effect } from "effect"
import { summaryDbFailed as failed, SummaryDb, type SummaryDbError } from "../store/SummaryDb.js"
import { type SummaryDays, summaryDays } from "./SummaryDays.js"
import { type SummaryLock, summaryLock } from "./SummaryLock.js"
import { type SummaryRuns, summaryRuns } from "./SummaryRuns.js"

export type { BatchRun, RunStatus, Trigger } from "../api/BatchRun.js"
export type { CommitClosedDay, CommitDay, Committed, CommittedAdjustments, DayRow, RateUsed } from "./SummaryDays.js"
export type { LockHolder } from "./SummaryLock.js"
export type { CatchUpCandidate, StartRun } from "./SummaryRuns.js"

export interface SummaryRepoShape extends SummaryDays, SummaryRuns, SummaryLock {
  /** Succeeds when the summary DB answers and its migrations are applied (for /ready). */
  readonly check: Effect.Effect<void, SummaryDbError>
}

const make = Effect.gen(function*() {
  const sql = yield* SummaryDb
  const repo: SummaryRepoShape = {
    ...summaryRuns(sql),
    ...summaryDays(sql),
    ...summaryLock(sql),
    check: sql`SELECT count(*) AS n FROM batch_lock`.pipe(Effect.asVoid, Effect.mapError(failed("check")))
  }
  return repo
})

/** Over `SummaryDb` (chosen at wiring). */
export class SummaryRepo extends Effect.Service<SummaryRepo>()("mai-usage/SummaryRepo", { effect: make }) {}
