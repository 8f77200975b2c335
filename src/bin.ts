/**
 * `mai-usage`: `serve` runs the server and the scheduler; `batch` and `compose` are tools an
 * operator runs by hand. Exit codes: 0 done, 1 a run failed, 2 bad arguments or configuration.
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit } from "effect"
import { JsonLogger, ServeLive } from "./App.js"
import { ConfigInvalid } from "./platform/Config.js"
import { CODE_VERSION } from "./platform/Version.js"
import { launchUntilStopped } from "./platform/Launch.js"
import { missingValue, valueOptions } from "./cli/MissingValue.js"
import { withCliConsole } from "./cli/Output.js"
import { monthCommand } from "./cli/MonthCommand.js"
import { batchCommand } from "./cli/BatchCommand.js"
import { composeCommand } from "./cli/ComposeCommand.js"
import { conflictsCommand } from "./cli/ConflictsCommand.js"
import { costsCommand } from "./cli/CostsCommand.js"
import { invoiceCommand } from "./cli/InvoiceCommand.js"
import { ComposeInputError, ComposeOutputError } from "./deploy/errors.js"
import { ExitCode } from "./platform/ExitCode.js"
import { rejectedCommand } from "./cli/RejectedCommand.js"
import { outboxCommand } from "./cli/OutboxCommand.js"
import { openRouterCommand } from "./cli/OpenRouterCommand.js"
import { reconcileCommand } from "./cli/ReconcileCommand.js"
import { consoleCommand } from "./console/ConsoleCommand.js"


const serve = Command.make("serve", {}, () => launchUntilStopped(ServeLive)).pipe(
  Command.withDescription(
    "Run the HTTP server (webhook, dashboard, API, /health, /ready, /metrics) and the daily batch schedule, " +
      "configured from the environment (see README.md)"
  )
)

const root = Command.make("mai-usage").pipe(
  Command.withDescription("OpenRouter usage of one client organisation, billed daily in PLN at the NBP rate"),
  Command.withSubcommands([serve, batchCommand, monthCommand, invoiceCommand, composeCommand, reconcileCommand, openRouterCommand, rejectedCommand, conflictsCommand, outboxCommand, costsCommand, consoleCommand])
)

const cli = Command.run(root, { name: "mai-usage", version: CODE_VERSION })

const exitCodeOf = (e: unknown): Effect.Effect<number> => {
  if (e instanceof ExitCode) return Effect.succeed(e.code)
  if (e instanceof ConfigInvalid) return Effect.as(Console.error(`configuration error: ${e.message}`), 2)
  if (e instanceof ComposeInputError) return Effect.as(Console.error(e.message), 2)
  if (e instanceof ComposeOutputError) return Effect.as(Console.error(e.message), 1)
  // @effect/cli has already printed these: bad arguments.
  if (ValidationError.isValidationError(e)) return Effect.succeed(2)
  const message = typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
  return Effect.as(Console.error(`error: ${message}`), 1)
}

/** A value-taking option without its value: say so, instead of the parser's "unknown argument". */
const checkValues = Effect.suspend(() => {
  const reason = missingValue(process.argv.slice(2), valueOptions(root))
  return reason === undefined ? Effect.void : Effect.zipRight(Console.error(`mai-usage: ${reason}`), Effect.fail(new ExitCode({ code: 2 })))
})

Effect.zipRight(checkValues, cli(process.argv)).pipe(
  Effect.as(0),
  Effect.catchAll(exitCodeOf),
  withCliConsole,
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
