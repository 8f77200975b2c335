/**
 * A server process until a signal: `Layer.launch` closes every layer on interrupt (the HTTP server
 * first, then whatever the layers hold); the `stopped` line comes after all of that, naming the
 * signal. `serve` and `console` both run this way.
 */
import { Effect, Layer } from "effect"

export const launchUntilStopped = <E>(layer: Layer.Layer<never, E>, stopped = "stopped") =>
  Effect.suspend(() => {
    let signal: NodeJS.Signals | undefined
    const note = (s: NodeJS.Signals) => void (signal = s)
    return Effect.acquireUseRelease(
      Effect.sync(() => void process.on("SIGTERM", note).on("SIGINT", note)),
      () => Layer.launch(layer),
      () =>
        Effect.suspend(() => Effect.logInfo(stopped, signal === undefined ? {} : { signal })).pipe(
          Effect.ensuring(Effect.sync(() => void process.off("SIGTERM", note).off("SIGINT", note)))
        )
    )
  })
