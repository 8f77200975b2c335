/**
 * `mai-usage costs fill`: fills every pending cost (a request Broadcast sent without its cost) from
 * OpenRouter's record of the generation, with OPENROUTER_API_KEY or the management key. Exit 0 when
 * none is left pending, 1 otherwise (each reason printed). `serve` does the same every few minutes.
 */
import * as Command from "@effect/cli/Command"
import { Console, Effect, Layer } from "effect"
import { CostFiller } from "../openrouter/CostFiller.js"
import { ExitCode } from "../platform/ExitCode.js"
import { commandGroup, quietlyOver } from "./Commands.js"
import { LedgerCliLive } from "./LedgerCli.js"
import { plural } from "./Output.js"

const CostsCliLive = CostFiller.Default.pipe(Layer.provideMerge(LedgerCliLive))

const fill = Command.make("fill", {}, () =>
  Effect.gen(function*() {
    const filler = yield* CostFiller
    const report = yield* filler.fill({ olderThan: 0, limit: 100_000 })
    yield* Console.log(`${plural(report.filled, "pending cost")} filled from OpenRouter (${report.asked} asked); ${report.pending} still pending`)
    for (const f of report.failures) yield* Console.error(`not filled: ${f}`)
    if (report.pending > 0) return yield* Effect.fail(new ExitCode({ code: 1 }))
  }).pipe(quietlyOver(CostsCliLive))).pipe(
    Command.withDescription(
      "Fill pending costs (requests Broadcast sent without a cost) from OpenRouter's record of each generation. " +
        "Exit 0 when none is left pending, 1 otherwise."
    )
  )

export const costsCommand = commandGroup("costs", "Pending costs: requests whose cost Broadcast did not send", [fill])
