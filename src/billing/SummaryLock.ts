/**
 * The cross-process batch lock (batch_lock): one batch run at a time across processes (server, CLI,
 * API). At most one row, held by its owner until released or until expires_at passes without a
 * heartbeat (a crashed holder).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import * as Os from "node:os"
import { safeIntegers as exact } from "../platform/Sqlite.js"
import { summaryDbFailed as failed, type SummaryDbError } from "../store/SummaryDb.js"

export interface LockHolder {
  readonly owner: string
  readonly pid: number
  readonly host: string
  readonly usageDate: string
  readonly acquiredAt: number
  readonly expiresAt: number
}

export interface SummaryLock {
  /** Takes the batch lock when free, expired, or held by a dead process on this host. */
  readonly tryLock: (
    owner: string,
    usageDate: string,
    now: number,
    ttlMs: number
  ) => Effect.Effect<Option.Option<LockHolder>, SummaryDbError>
  readonly renewLock: (owner: string, now: number, ttlMs: number) => Effect.Effect<void, SummaryDbError>
  readonly unlock: (owner: string) => Effect.Effect<void, SummaryDbError>
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

export const summaryLock = (sql: SqlClient.SqlClient): SummaryLock => {
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

  const tryLock: SummaryLock["tryLock"] = (owner, usageDate, now, ttlMs) =>
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

  const renewLock: SummaryLock["renewLock"] = (owner, now, ttlMs) =>
    sql`UPDATE batch_lock SET expires_at = ${now + ttlMs} WHERE id = 1 AND owner = ${owner}`.pipe(
      Effect.asVoid,
      Effect.mapError(failed("lock"))
    )

  const unlock: SummaryLock["unlock"] = (owner) =>
    sql`DELETE FROM batch_lock WHERE id = 1 AND owner = ${owner}`.pipe(Effect.asVoid, Effect.mapError(failed("lock")))

  return { tryLock, renewLock, unlock }
}
