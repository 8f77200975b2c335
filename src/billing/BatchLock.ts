/**
 * One batch lock for everything that must not interleave with a run: the runs themselves and the
 * month close and reopen. An in-process semaphore, then the cross-process lock in the summary DB
 * (server, a CLI in the same container and the API all share that file). A holder that cannot get
 * the lock within `lockWait` is refused with the holder named; it never interleaves. While held,
 * the lock is renewed every `lockTtl / 4`; a lock not renewed for `lockTtl` belongs to a dead
 * process.
 */
import { Clock, Duration, Effect, Option } from "effect"
import * as Crypto from "node:crypto"
import * as Os from "node:os"
import { BatchBusy } from "./RunRecord.js"
import { type LockHolder, SummaryRepo } from "./SummaryRepo.js"

export interface BatchLockOptions {
  /** how long a run waits for another process's run to finish before it is refused */
  readonly lockWait?: Duration.DurationInput
  /** a lock not renewed for this long belongs to a dead process */
  readonly lockTtl?: Duration.DurationInput
}

export const describeHolder = (h: LockHolder) =>
  `another batch run is in progress (day ${h.usageDate}, pid ${h.pid} on ${h.host}, since ${
    new Date(h.acquiredAt).toISOString()
  })`

/** `holding(day, body)`: runs `body` holding both locks, or fails with `BatchBusy`. One per process. */
export class BatchLock extends Effect.Service<BatchLock>()("mai-usage/BatchLock", {
  effect: (options: BatchLockOptions = {}) =>
    Effect.gen(function*() {
      const repo = yield* SummaryRepo
      const lockWait = Duration.toMillis(options.lockWait ?? Duration.seconds(30))
      const lockTtl = Duration.toMillis(options.lockTtl ?? Duration.seconds(60))
      const semaphore = yield* Effect.makeSemaphore(1)
      const owner = `${Os.hostname()}:${process.pid}:${Crypto.randomBytes(6).toString("hex")}`

      const lock = (day: string) =>
        Effect.gen(function*() {
          const deadline = (yield* Clock.currentTimeMillis) + lockWait
          while (true) {
            const now = yield* Clock.currentTimeMillis
            const holder = yield* repo.tryLock(owner, day, now, lockTtl).pipe(
              Effect.mapError((e) => new BatchBusy({ day, message: e.message }))
            )
            if (Option.isNone(holder)) {
              // Held now: a run left `running` was its dead holder's.
              const interrupted = yield* repo.failInterrupted(new Date(now).toISOString()).pipe(
                Effect.catchAll((e) => Effect.as(Effect.logWarning("could not mark interrupted runs", { error: e.message }), 0))
              )
              if (interrupted > 0) yield* Effect.logWarning("batch runs of a process that died marked failed (interrupted)", { runs: interrupted })
              return
            }
            if (now >= deadline) return yield* Effect.fail(new BatchBusy({ day, message: describeHolder(holder.value) }))
            yield* Effect.sleep(Duration.millis(Math.min(500, deadline - now)))
          }
        })

      const heartbeat = Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(Duration.millis(lockTtl / 4))
          const now = yield* Clock.currentTimeMillis
          yield* repo.renewLock(owner, now, lockTtl).pipe(
            Effect.catchAll((e) => Effect.logWarning("batch lock renewal failed", { error: e.message }))
          )
        }
      })

      const holding = <A, E, R>(day: string, body: Effect.Effect<A, E, R>) =>
        semaphore.withPermits(1)(
          Effect.scoped(
            Effect.gen(function*() {
              yield* Effect.acquireRelease(lock(day), () => Effect.ignore(repo.unlock(owner)))
              yield* Effect.forkScoped(heartbeat)
              return yield* body
            })
          )
        )

      return { holding }
    })
}) {}
