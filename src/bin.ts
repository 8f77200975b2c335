/**
 * `mai-usage`: `serve` runs the server and the scheduler; `batch` and `compose` are tools an
 * operator runs by hand. Exit codes: 0 done, 1 a run failed, 2 bad arguments or configuration.
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { CoreLive, JsonLogger, serveLayer } from "./App.js"
import { ConfigInvalid } from "./Config.js"

/** A failure that has already been explained to the operator, with the exit code to use. */
export class ExitCode {
  readonly _tag = "ExitCode"
  constructor(readonly code: number) {}
}

const serve = Command.make("serve", {}, () => Layer.launch(serveLayer(CoreLive))).pipe(
  Command.withDescription("Run the HTTP server (webhook, dashboard, API, health, metrics) and the daily scheduler")
)

const root = Command.make("mai-usage").pipe(Command.withSubcommands([serve]))

const cli = Command.run(root, { name: "mai-usage", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.catchIf(
    (e): e is ConfigInvalid => e instanceof ConfigInvalid,
    (e) => Effect.zipRight(Console.error(`configuration error: ${e.message}`), Effect.fail(new ExitCode(2)))
  ),
  Effect.provide(NodeContext.layer),
  Effect.provide(JsonLogger),
  (program) =>
    NodeRuntime.runMain(program, {
      disablePrettyLogger: true,
      teardown: (exit, onExit) => {
        if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return onExit(0)
        const failure = Cause.failureOption(exit.cause)
        if (failure._tag === "Some" && failure.value instanceof ExitCode) return onExit(failure.value.code)
        // @effect/cli reports bad arguments as ValidationError after printing them.
        if (failure._tag === "Some" && typeof failure.value === "object" && failure.value !== null && "_tag" in failure.value) {
          const tag = String((failure.value as { _tag: unknown })._tag)
          if (/Validation|MissingValue|InvalidValue|CommandMismatch|UnclusteredFlag|MultipleValuesDetected|InvalidArgument|CorrectedFlag|NoBuiltInMatch/.test(tag)) return onExit(2)
        }
        onExit(1)
      }
    })
)
