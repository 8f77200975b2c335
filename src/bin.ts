/**
 * `mai-usage`: `serve` runs the server and the scheduler; `batch` and `compose` are tools an
 * operator runs by hand. Exit codes: 0 done, 1 a run failed, 2 bad arguments or configuration.
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { CoreLive, JsonLogger, serveLayer } from "./App.js"
import { ConfigInvalid } from "./Config.js"
import { batchCommand } from "./batch/BatchCommand.js"
import { composeCommand } from "./deploy/ComposeCommand.js"
import { ComposeInputError, ComposeOutputError } from "./deploy/errors.js"
import { ExitCode } from "./ExitCode.js"
import { rejectedCommand } from "./ingest/RejectedCommand.js"
import { openRouterCommand } from "./openrouter/OpenRouterCommand.js"
import { reconcileCommand } from "./openrouter/ReconcileCommand.js"


const serve = Command.make("serve", {}, () => Layer.launch(serveLayer(CoreLive))).pipe(
  Command.withDescription("Run the HTTP server (webhook, dashboard, API, health, metrics) and the daily scheduler")
)

const root = Command.make("mai-usage").pipe(Command.withSubcommands([serve, batchCommand, composeCommand, reconcileCommand, openRouterCommand, rejectedCommand]))

const cli = Command.run(root, { name: "mai-usage", version: "0.1.0" })

/** @effect/cli has already printed these: bad arguments. */
const isCliUsageError = (e: unknown) =>
  typeof e === "object" && e !== null && "_tag" in e &&
  /^(CommandMismatch|CorrectedFlag|HelpRequested|InvalidArgument|InvalidValue|MissingValue|MissingFlag|MultipleValuesDetected|MissingSubcommand|NoBuiltInMatch|ShowHelp|UnclusteredFlag)$/
    .test(String((e as { _tag: unknown })._tag))

const exitCodeOf = (e: unknown): Effect.Effect<number> => {
  if (e instanceof ExitCode) return Effect.succeed(e.code)
  if (e instanceof ConfigInvalid) return Effect.as(Console.error(`configuration error: ${e.message}`), 2)
  if (e instanceof ComposeInputError) return Effect.as(Console.error(e.message), 2)
  if (e instanceof ComposeOutputError) return Effect.as(Console.error(e.message), 1)
  if (isCliUsageError(e)) return Effect.succeed(2)
  const message = typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
  return Effect.as(Console.error(`error: ${message}`), 1)
}

cli(process.argv).pipe(
  Effect.as(0),
  Effect.catchAll(exitCodeOf),
  Effect.provide(NodeContext.layer),
  Effect.provide(JsonLogger),
  (program) =>
    NodeRuntime.runMain(program, {
      disablePrettyLogger: true,
      teardown: (exit, onExit) => {
        if (Exit.isSuccess(exit)) return onExit(Number(exit.value))
        if (Cause.isInterruptedOnly(exit.cause)) return onExit(0)
        process.stderr.write(`fatal: ${Cause.pretty(exit.cause).split("\n")[0]}\n`)
        onExit(1)
      }
    })
)
