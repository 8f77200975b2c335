/**
 * The batch's reads and writes of the summary DB: day rows, the rate used, batch runs,
 * and the cross-process batch lock. Table meanings are those documented in `store/SummaryDb.ts`.
 *
 * Corrections. A day's rows are keyed (usage_date, client_org_id, user, model). When a run commits
 * a day that already had a successful run, every key whose row appeared, vanished, or whose figures
 * changed (requests, any token count, cost_nusd, cost_usd, markup, rate, rate table, rate date,
 * cost_pln) counts as one correction. The first successful run of a day has 0 corrections. An
 * unchanged row is not rewritten (its updated_at and batch_run_id keep naming the run that last
 * changed it), so re-running a day with the same data changes nothing.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import * as Os from "node:os"
import { toAdjustment } from "../accounting/AccountingRepo.js"
import { type AdjustmentDelta, adjustmentsFor, type Figures, type Pricing } from "../accounting/Periods.js"
import { formatUsd } from "../domain/Money.js"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import { addDays } from "../domain/WarsawDay.js"
import { type AggregateColumns, type PricedColumns, pricedFields, usageAggregate } from "../store/Rows.js"
import { SummaryDb, SummaryDbError } from "../store/SummaryDb.js"
import { type BatchRun, type BatchRunRecord, toBatchRun, type Trigger } from "./BatchRun.js"

export type { BatchRun, RunStatus, Trigger } from "./BatchRun.js"

/** One daily_usage row: the day's aggregate, and its money and rate as decimal text. */
export interface DayRow extends UsageAggregate {
  readonly costUsd: string
  readonly markup: string
  readonly rate: string
  readonly rateTable: string
  readonly rateDate: string
  readonly costPln: string
}

export interface RateUsed {
  readonly rule: string
  readonly rate: string
  readonly tableNo: string
  readonly effectiveDate: string
}

export interface StartRun {
  readonly usageDate: string
  readonly clientOrgId: string
  readonly trigger: Trigger
  readonly startedAt: string
  readonly markup: string
  readonly source: string
  readonly codeVersion: string
}

export interface CommitDay {
  readonly runId: number
  readonly usageDate: string
  readonly clientOrgId: string
  readonly rows: ReadonlyArray<DayRow>
  /** undefined when the day has no usage (no rate was needed) */
  readonly rate: RateUsed | undefined
  readonly events: number
  readonly at: string
}

/** A run of a day in a closed month: the figures found, compared with what the day already books. */
export interface CommitClosedDay {
  readonly runId: number
  readonly usageDate: string
  readonly clientOrgId: string
  readonly found: ReadonlyArray<UsageAggregate>
  /** prices keys the closed day has nothing booked for; the day's own rows' rate and markup win */
  readonly dayPricing: Pricing | undefined
  /** the first open month after the day's month */
  readonly intoMonth: string
  readonly reason: string
  readonly events: number
  readonly at: string
}

export interface CommittedAdjustments {
  readonly adjustments: ReadonlyArray<AdjustmentDelta>
  /** the closed day's own rows (unchanged) */
  readonly frozenRows: number
  readonly pricing: Pricing | undefined
}

export interface Committed {
  /** rows the day has after the run */
  readonly rowsWritten: number
  /** rows inserted, updated or deleted by this run */
  readonly rowsChanged: number
  readonly corrections: number
}

/** A day without a successful run, and whether an earlier day has one (so it was missed, not unused). */
export interface CatchUpCandidate {
  readonly day: string
  readonly followsSuccess: boolean
}

export interface LockHolder {
  readonly owner: string
  readonly pid: number
  readonly host: string
  readonly usageDate: string
  readonly acquiredAt: number
  readonly expiresAt: number
}

export interface SummaryRepoShape {
  readonly startRun: (run: StartRun) => Effect.Effect<number, SummaryDbError>
  /** Rows, vanished rows, the rate and the run's success, all in one transaction. */
  readonly commitDay: (commit: CommitDay) => Effect.Effect<Committed, SummaryDbError>
  /**
   * The adjustment rule for a day of a closed month, in one transaction: its daily_usage rows stay
   * as they are; each difference becomes an adjustment row in `intoMonth`; the run succeeds with
   * `corrections` = the adjustment rows written.
   */
  readonly commitClosedDay: (commit: CommitClosedDay) => Effect.Effect<CommittedAdjustments, SummaryDbError>
  readonly failRun: (runId: number, error: string, at: string) => Effect.Effect<void, SummaryDbError>
  readonly listRuns: (limit: number) => Effect.Effect<ReadonlyArray<BatchRun>, SummaryDbError>
  readonly lastSuccess: (clientOrgId: string) => Effect.Effect<Option.Option<BatchRun>, SummaryDbError>
  readonly dayRows: (usageDate: string, clientOrgId: string) => Effect.Effect<ReadonlyArray<DayRow>, SummaryDbError>
  /** Days in [from, to] with no successful run, oldest first. */
  readonly catchUpCandidates: (
    clientOrgId: string,
    from: string,
    to: string
  ) => Effect.Effect<ReadonlyArray<CatchUpCandidate>, SummaryDbError>
  /** Takes the batch lock when free, expired, or held by a dead process on this host. */
  readonly tryLock: (
    owner: string,
    usageDate: string,
    now: number,
    ttlMs: number
  ) => Effect.Effect<Option.Option<LockHolder>, SummaryDbError>
  readonly renewLock: (owner: string, now: number, ttlMs: number) => Effect.Effect<void, SummaryDbError>
  readonly unlock: (owner: string) => Effect.Effect<void, SummaryDbError>
  /** Succeeds when the summary DB answers and its migrations are applied (for /ready). */
  readonly check: Effect.Effect<void, SummaryDbError>
}

const failed = (what: string) => (cause: unknown) =>
  new SummaryDbError({ message: `summary DB ${what} failed: ${String((cause as { cause?: unknown }).cause ?? cause)}` })

interface RawDayRow extends AggregateColumns, PricedColumns {}

const toDayRow = (r: RawDayRow): DayRow => ({
  ...usageAggregate(r),
  ...pricedFields(r)
})

/** Every figure of a row, as one comparable text (what "changed" means for a correction). */
const figures = (r: DayRow) =>
  [r.requests, r.inputTokens, r.outputTokens, r.totalTokens, r.cachedTokens, r.reasoningTokens, r.costNusd, r.costUsd,
    r.markup, r.rate, r.rateTable, r.rateDate, r.costPln].join("|")

const INT64_MAX = (1n << 63n) - 1n

/**
 * A day row keeps its exact cost in an INTEGER column (int64): 9,223,372,036.854775807 USD per
 * (day, user, model). Beyond that the run fails saying so, rather than storing a rounded number.
 */
const beyondSummaryLimit = (c: CommitDay) => {
  const row = c.rows.find((r) => r.costNusd > INT64_MAX || r.costNusd < -INT64_MAX)
  return row === undefined ? Effect.void : Effect.fail(
    new SummaryDbError({
      message: `the cost of user ${JSON.stringify(row.user.slice(0, 80))}, model ${JSON.stringify(row.model.slice(0, 80))} ` +
        `on ${c.usageDate} is ${formatUsd(row.costNusd)} USD, beyond the ${formatUsd(INT64_MAX)} USD a summary row can hold`
    })
  )
}

const key = (r: { readonly user: string; readonly model: string }) => JSON.stringify([r.user, r.model])

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const make = Effect.gen(function*() {
  const sql = yield* SummaryDb
  const exact = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideService(e, SqlClient.SafeIntegers, true)

  const dayRows: SummaryRepoShape["dayRows"] = (usageDate, clientOrgId) =>
    exact(sql<RawDayRow>`SELECT user, model, requests, input_tokens, output_tokens, total_tokens, cached_tokens,
        reasoning_tokens, cost_nusd, cost_usd, markup, rate, rate_table, rate_date, cost_pln
      FROM daily_usage WHERE usage_date = ${usageDate} AND client_org_id = ${clientOrgId} ORDER BY user, model`).pipe(
      Effect.map((rows) => rows.map(toDayRow)),
      Effect.mapError(failed("read"))
    )

  const startRun: SummaryRepoShape["startRun"] = (run) =>
    sql<{ id: number }>`INSERT INTO batch_runs (usage_date, client_org_id, trigger, started_at, status, markup, source,
        code_version)
      VALUES (${run.usageDate}, ${run.clientOrgId}, ${run.trigger}, ${run.startedAt}, 'running', ${run.markup},
        ${run.source}, ${run.codeVersion})
      RETURNING id`.pipe(Effect.map((r) => Number(r[0].id)), Effect.mapError(failed("write")))

  const upsert = (c: CommitDay, r: DayRow) =>
    sql`INSERT INTO daily_usage (usage_date, client_org_id, user, model, requests, input_tokens, output_tokens,
        total_tokens, cached_tokens, reasoning_tokens, cost_nusd, cost_usd, markup, rate, rate_table, rate_date, cost_pln,
        batch_run_id, updated_at)
      VALUES (${c.usageDate}, ${c.clientOrgId}, ${r.user}, ${r.model}, ${r.requests}, ${r.inputTokens},
        ${r.outputTokens}, ${r.totalTokens}, ${r.cachedTokens}, ${r.reasoningTokens}, ${r.costNusd}, ${r.costUsd},
        ${r.markup}, ${r.rate}, ${r.rateTable}, ${r.rateDate}, ${r.costPln}, ${c.runId}, ${c.at})
      ON CONFLICT (usage_date, client_org_id, user, model) DO UPDATE SET
        requests = excluded.requests, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
        total_tokens = excluded.total_tokens, cached_tokens = excluded.cached_tokens,
        reasoning_tokens = excluded.reasoning_tokens, cost_nusd = excluded.cost_nusd, cost_usd = excluded.cost_usd,
        markup = excluded.markup, rate = excluded.rate, rate_table = excluded.rate_table,
        rate_date = excluded.rate_date, cost_pln = excluded.cost_pln, batch_run_id = excluded.batch_run_id,
        updated_at = excluded.updated_at`

  const commitDay: SummaryRepoShape["commitDay"] = (c) =>
    Effect.zipRight(beyondSummaryLimit(c), sql.withTransaction(
      Effect.gen(function*() {
        const before = new Map((yield* dayRows(c.usageDate, c.clientOrgId)).map((r) => [key(r), r]))
        const summarisedBefore = yield* sql<{ n: number }>`SELECT count(*) AS n FROM batch_runs
          WHERE usage_date = ${c.usageDate} AND client_org_id = ${c.clientOrgId} AND status = 'succeeded'`
        let changed = 0
        const seen = new Set<string>()
        for (const row of c.rows) {
          const k = key(row)
          seen.add(k)
          const old = before.get(k)
          if (old !== undefined && figures(old) === figures(row)) continue
          changed++
          yield* upsert(c, row)
        }
        for (const [k, old] of before) {
          if (seen.has(k)) continue
          changed++
          yield* sql`DELETE FROM daily_usage WHERE usage_date = ${c.usageDate} AND client_org_id = ${c.clientOrgId}
            AND user = ${old.user} AND model = ${old.model}`
        }
        if (c.rate !== undefined) {
          const r = c.rate
          yield* sql`INSERT INTO exchange_rates (usage_date, rule, rate, table_no, effective_date, fetched_at)
            VALUES (${c.usageDate}, ${r.rule}, ${r.rate}, ${r.tableNo}, ${r.effectiveDate}, ${c.at})
            ON CONFLICT (usage_date, rule) DO UPDATE SET rate = excluded.rate, table_no = excluded.table_no,
              effective_date = excluded.effective_date, fetched_at = excluded.fetched_at
            WHERE rate IS NOT excluded.rate OR table_no IS NOT excluded.table_no
              OR effective_date IS NOT excluded.effective_date`
        }
        const corrections = Number(summarisedBefore[0].n) > 0 ? changed : 0
        const result: Committed = { rowsWritten: c.rows.length, rowsChanged: changed, corrections }
        yield* sql`UPDATE batch_runs SET status = 'succeeded', finished_at = ${c.at}, events = ${c.events},
            rows_written = ${result.rowsWritten}, corrections = ${corrections}, rate = ${c.rate?.rate ?? null},
            rate_table = ${c.rate?.tableNo ?? null}, error = NULL
          WHERE id = ${c.runId}`
        return result
      })
    ).pipe(Effect.mapError((e) => (e instanceof SummaryDbError ? e : failed("write")(e)))))

  const commitClosedDay: SummaryRepoShape["commitClosedDay"] = (c) =>
    sql.withTransaction(
      Effect.gen(function*() {
        const frozen = yield* dayRows(c.usageDate, c.clientOrgId)
        const earlier = yield* exact(sql<Parameters<typeof toAdjustment>[0]>`SELECT * FROM adjustments
          WHERE client_org_id = ${c.clientOrgId} AND original_date = ${c.usageDate} ORDER BY id`)
        const booked: Array<Figures> = [...frozen, ...earlier.map(toAdjustment)]
        // The original day's rate and markup: those its rows were billed at, when it has any.
        const pricing: Pricing | undefined = booked.length > 0
          ? { markup: booked[0].markup, rate: booked[0].rate, rateTable: booked[0].rateTable, rateDate: booked[0].rateDate }
          : c.dayPricing
        const deltas = pricing === undefined ? [] : adjustmentsFor(booked, c.found, pricing)
        for (const d of deltas) {
          yield* sql`INSERT INTO adjustments (client_org_id, month, original_date, user, model, requests, input_tokens,
              output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nusd, cost_usd, markup, rate,
              rate_table, rate_date, cost_pln, reason, batch_run_id, created_at)
            VALUES (${c.clientOrgId}, ${c.intoMonth}, ${c.usageDate}, ${d.user}, ${d.model}, ${d.requests},
              ${d.inputTokens}, ${d.outputTokens}, ${d.totalTokens}, ${d.cachedTokens}, ${d.reasoningTokens},
              ${d.costNusd}, ${d.costUsd}, ${d.markup}, ${d.rate}, ${d.rateTable}, ${d.rateDate}, ${d.costPln},
              ${c.reason}, ${c.runId}, ${c.at})`
        }
        yield* sql`UPDATE batch_runs SET status = 'succeeded', finished_at = ${c.at}, events = ${c.events},
            rows_written = ${frozen.length}, corrections = ${deltas.length}, rate = ${pricing?.rate ?? null},
            rate_table = ${pricing?.rateTable ?? null}, markup = COALESCE(${pricing?.markup ?? null}, markup),
            error = NULL
          WHERE id = ${c.runId}`
        const result: CommittedAdjustments = { adjustments: deltas, frozenRows: frozen.length, pricing }
        return result
      })
    ).pipe(Effect.mapError((e) => (e instanceof SummaryDbError ? e : failed("write")(e))))

  const failRun: SummaryRepoShape["failRun"] = (runId, error, at) =>
    sql`UPDATE batch_runs SET status = 'failed', finished_at = ${at}, error = ${error} WHERE id = ${runId}`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("write"))
    )

  const listRuns: SummaryRepoShape["listRuns"] = (limit) =>
    exact(sql<BatchRunRecord>`SELECT * FROM batch_runs ORDER BY id DESC LIMIT ${limit}`).pipe(
      Effect.map((rows) => rows.map(toBatchRun)),
      Effect.mapError(failed("read"))
    )

  const lastSuccess: SummaryRepoShape["lastSuccess"] = (clientOrgId) =>
    exact(sql<BatchRunRecord>`SELECT * FROM batch_runs WHERE client_org_id = ${clientOrgId} AND status = 'succeeded'
      ORDER BY id DESC LIMIT 1`).pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toBatchRun)),
      Effect.mapError(failed("read"))
    )

  const catchUpCandidates: SummaryRepoShape["catchUpCandidates"] = (clientOrgId, from, to) =>
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

  const readLock = exact(sql<{
    owner: string
    pid: bigint
    host: string
    usage_date: string
    acquired_at: bigint
    expires_at: bigint
  }>`SELECT * FROM batch_lock WHERE id = 1`).pipe(
    Effect.map((rows) =>
      Option.map(Option.fromNullable(rows[0]), (r): LockHolder => ({
        owner: r.owner,
        pid: Number(r.pid),
        host: r.host,
        usageDate: r.usage_date,
        acquiredAt: Number(r.acquired_at),
        expiresAt: Number(r.expires_at)
      }))
    )
  )

  // One statement: SQLite runs it atomically, so two processes can never both take the lock.
  const take = (owner: string, usageDate: string, now: number, ttlMs: number) =>
    sql`INSERT INTO batch_lock (id, owner, pid, host, usage_date, acquired_at, expires_at)
      VALUES (1, ${owner}, ${process.pid}, ${Os.hostname()}, ${usageDate}, ${now}, ${now + ttlMs})
      ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
        usage_date = excluded.usage_date, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      WHERE batch_lock.expires_at < ${now} OR batch_lock.owner = excluded.owner`.raw.pipe(
      Effect.map((r) => (r as { changes: number }).changes > 0)
    )

  const tryLock: SummaryRepoShape["tryLock"] = (owner, usageDate, now, ttlMs) =>
    Effect.gen(function*() {
      if (yield* take(owner, usageDate, now, ttlMs)) return Option.none()
      const holder = yield* readLock
      if (Option.isNone(holder)) {
        return (yield* take(owner, usageDate, now, ttlMs)) ? Option.none() : yield* readLock
      }
      // A holder on this host whose process is gone will never release it: reclaim at once.
      if (holder.value.host === Os.hostname() && !isAlive(holder.value.pid)) {
        yield* sql`DELETE FROM batch_lock WHERE id = 1 AND owner = ${holder.value.owner}`
        return (yield* take(owner, usageDate, now, ttlMs)) ? Option.none() : yield* readLock
      }
      return holder
    }).pipe(Effect.mapError(failed("lock")))

  const renewLock: SummaryRepoShape["renewLock"] = (owner, now, ttlMs) =>
    sql`UPDATE batch_lock SET expires_at = ${now + ttlMs} WHERE id = 1 AND owner = ${owner}`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("lock"))
    )

  const unlock: SummaryRepoShape["unlock"] = (owner) =>
    sql`DELETE FROM batch_lock WHERE id = 1 AND owner = ${owner}`.pipe(Effect.asVoid, Effect.mapError(failed("lock")))

  const check = sql`SELECT count(*) AS n FROM batch_lock`.pipe(Effect.asVoid, Effect.mapError(failed("check")))

  const repo: SummaryRepoShape = {
    startRun,
    commitDay,
    commitClosedDay,
    failRun,
    listRuns,
    lastSuccess,
    dayRows,
    catchUpCandidates,
    tryLock,
    renewLock,
    unlock,
    check
  }
  return repo
})

/** Over `SummaryDb` (chosen at wiring). */
export class SummaryRepo extends Effect.Service<SummaryRepo>()("mai-usage/SummaryRepo", { effect: make }) {}
