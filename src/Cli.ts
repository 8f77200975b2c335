/**
 * `mai-usage`'s commands: `serve` runs the server and the scheduler (`bin.ts` starts it without
 * loading this command tree); `batch`, `month`, `compose` and the others are tools an operator runs
 * by hand. Exit codes: 0 done, 1 a run failed, 2 bad arguments or configuration.
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import { Console, Effect } from "effect"
import { CODE_VERSION } from "./platform/Version.js"
import { missingValue, valueOptions } from "./cli/MissingValue.js"
import { exitCodeOf, runMain, serveUntilStopped } from "./Run.js"
import { monthCommand } from "./cli/MonthCommand.js"
import { batchCommand } from "./cli/BatchCommand.js"
import { budgetCommand } from "./cli/BudgetCommand.js"
import { composeCommand } from "./cli/ComposeCommand.js"
import { conflictsCommand } from "./cli/ConflictsCommand.js"
import { costsCommand } from "./cli/CostsCommand.js"
import { invoiceCommand } from "./cli/InvoiceCommand.js"
import { ExitCode } from "./platform/ExitCode.js"
import { rejectedCommand } from "./cli/RejectedCommand.js"
import { outboxCommand } from "./cli/OutboxCommand.js"
import { openRouterCommand } from "./cli/OpenRouterCommand.js"
import { reconcileCommand } from "./cli/ReconcileCommand.js"
import { consoleCommand } from "./console/ConsoleCommand.js"

const serve = Command.make("serve", {}, () => serveUntilStopped).pipe(
  Command.withDescription(
    "Run the HTTP server (webhook, dashboard, API, /health, /ready, /metrics) and the daily batch schedule, " +
      "configured from the environment (see README.md)"
  )
)

const root = Command.make("mai-usage").pipe(
  Command.withDescription("OpenRouter usage of one client organisation, billed daily in PLN at the NBP rate"),
  Command.withSubcommands([serve, batchCommand, monthCommand, invoiceCommand, composeCommand, reconcileCommand, openRouterCommand, rejectedCommand, conflictsCommand, outboxCommand, costsCommand, budgetCommand, consoleCommand])
)

const cli = Command.run(root, { name: "mai-usage", version: CODE_VERSION })

/** A value-taking option without its value: say so, instead of the parser's "unknown argument". */
const checkValues = Effect.suspend(() => {
  const reason = missingValue(process.argv.slice(2), valueOptions(root))
  return reason === undefined ? Effect.void : Effect.zipRight(Console.error(`mai-usage: ${reason}`), Effect.fail(new ExitCode({ code: 2 })))
})

Effect.zipRight(checkValues, cli(process.argv)).pipe(
  Effect.as(0),
  // @effect/cli has already printed these: bad arguments.
  Effect.catchAll((e) => (ValidationError.isValidationError(e) ? Effect.succeed(2) : exitCodeOf(e))),
  runMain
)
