/**
 * How the process runs a program: the server until a signal, the exit code of a failure (with its
 * one line), the JSON logger and the CLI's console. Shared by `serve`'s short way in (`bin.ts`)
 * and the command tree (`Cli.ts`).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { JsonLogger, ServeLive } from "./App.js"
import { withCliConsole } from "./cli/Output.js"
import { ComposeInputError, ComposeOutputError } from "./deploy/errors.js"
import { ConfigInvalid } from "./platform/Config.js"
import { ExitCode } from "./platform/ExitCode.js"
import { settleHeapSoon } from "./platform/Heap.js"
import { launchUntilStopped } from "./platform/Launch.js"

/**
 * The server until a signal (then every layer is closed, the "stopped" line last). Once it is up,
 * the garbage of starting is collected and its pages given back (platform/Heap.ts).
 */
export const serveUntilStopped = Effect.suspend(() =>
  launchUntilStopped(ServeLive.pipe(Layer.tap(() => Effect.sync(() => settleHeapSoon()))))
)

/** A failure's exit code (2: bad configuration or arguments, 1: a run failed), its line on stderr. */
export const exitCodeOf = (e: unknown): Effect.Effect<number> => {
  if (e instanceof ExitCode) return Effect.succeed(e.code)
  if (e instanceof ConfigInvalid) return Effect.as(Console.error(`configuration error: ${e.message}`), 2)
  if (e instanceof ComposeInputError) return Effect.as(Console.error(e.message), 2)
  if (e instanceof ComposeOutputError) return Effect.as(Console.error(e.message), 1)
  const message = typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
  return Effect.as(Console.error(`error: ${message}`), 1)
}

/** Runs `program` (its value is the exit code) as the process's main program. */
export const runMain = (program: Effect.Effect<number, never, NodeContext.NodeContext>) =>
  program.pipe(
    withCliConsole,
    Effect.provide(NodeContext.layer),
    Effect.provide(JsonLogger),
    (p) =>
      NodeRuntime.runMain(p, {
        disablePrettyLogger: true,
        teardown: (exit, onExit) => {
          if (Exit.isSuccess(exit)) return onExit(Number(exit.value))
          if (Cause.isInterruptedOnly(exit.cause)) return onExit(0)
          process.stderr.write(`fatal: ${Cause.pretty(exit.cause).split("\n")[0]}\n`)
          onExit(1)
        }
      })
  )

/** `mai-usage serve`: the server alone, without loading the command tree. */
export const serveMain = () => runMain(serveUntilStopped.pipe(Effect.as(0), Effect.catchAll(exitCodeOf)))
