import { Deferred, Effect, Exit, Option, SynchronizedRef } from "effect"

/**
 * Wraps an effect so that concurrent callers share one run of it: whoever
 * arrives while a run is in flight awaits that run's result. Nothing is kept
 * afterwards (a failure is never replayed to a later caller). The run is
 * detached from the callers, so one caller giving up does not cancel it for
 * the others.
 */
export const makeSingleFlight = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<Effect.Effect<A, E>> =>
  Effect.map(SynchronizedRef.make(Option.none<Deferred.Deferred<A, E>>()), (inFlight) =>
    SynchronizedRef.modifyEffect(inFlight, (current) => {
      if (Option.isSome(current)) {
        return Effect.succeed([current.value, current] as const)
      }
      return Effect.gen(function*() {
        const deferred = yield* Deferred.make<A, E>()
        const run = effect.pipe(
          Effect.exit,
          Effect.tap(() => SynchronizedRef.set(inFlight, Option.none())),
          Effect.flatMap((exit: Exit.Exit<A, E>) => Deferred.done(deferred, exit))
        )
        yield* Effect.forkDaemon(run)
        return [deferred, Option.some(deferred)] as const
      })
    }).pipe(Effect.flatMap(Deferred.await)))
