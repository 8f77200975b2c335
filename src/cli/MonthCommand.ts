/**
 * `mai-usage month close YYYY-MM [--reason …]` and `mai-usage month reopen YYYY-MM --reason …`:
 * the same `Months` program as the admin API and the dashboard, recorded as done by `cli`.
 * Exit 0 done, 1 refused (preconditions) or the summary DB failed, 2 bad arguments or configuration.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { SummaryDbLive } from "../store/StoreLive.js"
import { MonthsLive } from "../billing/BatchLive.js"
import * as Config from "../platform/Config.js"
import { isMonth } from "../domain/WarsawDay.js"
import { ExitCode } from "../platform/ExitCode.js"
import { type MonthError, Months } from "../billing/Months.js"
import { ReconciliationGateLive } from "../openrouter/ReconciliationGateLive.js"

const month = Args.text({ name: "YYYY-MM" }).pipe(Args.withDescription("the calendar month, e.g. 2025-11"))
const closeReason = Options.text("reason").pipe(
  Options.withDescription("why the month is closed (kept in the audit log)"),
  Options.optional
)
const closer = Options.text("by").pipe(
  Options.withDescription("the name of the person closing the month (shown on the statement beside `cli`)"),
  Options.optional
)
const acceptUnreconciled = Options.boolean("accept-unreconciled").pipe(
  Options.withDescription("close although reconciliation found days missing or never reconciled (needs --reason; kept in the audit log and on the statement)")
)
const reopenReason = Options.text("reason").pipe(Options.withDescription("why the month is reopened (required; kept in the audit log)"))

/** Months over the summary DB only (with reconciliation's results in it): no ledger, no server. */
const MonthsCliLive = MonthsLive.pipe(
  Layer.provide(ReconciliationGateLive),
  Layer.provideMerge(SummaryDbLive),
  Layer.provideMerge(Config.layer)
)

const refused = (e: MonthError) => Effect.zipRight(Console.error(`month: ${e.message}`), Effect.fail(new ExitCode({ code: 1 })))

const checked = (m: string) =>
  isMonth(m)
    ? Effect.void
    : Effect.zipRight(Console.error(`month: invalid month ${JSON.stringify(m)}: expected YYYY-MM`), Effect.fail(new ExitCode({ code: 2 })))

const close = Command.make("close", { month, reason: closeReason, by: closer, acceptUnreconciled }, (args) =>
  Effect.gen(function*() {
    yield* checked(args.month)
    const months = yield* Months
    const c = yield* Effect.catchAll(
      months.close(args.month, "cli", Option.getOrUndefined(args.reason), {
        acceptUnreconciled: args.acceptUnreconciled,
        ...Option.match(args.by, { onNone: () => ({}), onSome: (closerName) => ({ closerName }) })
      }),
      refused
    )
    yield* Console.log(
      `${c.month} closed at ${c.closedAt} by cli${c.closerName == null ? "" : ` (${c.closerName})`}: total PLN ${c.costPln}, USD ${c.costUsd}, ${c.requests} requests; ` +
        `statement CSV SHA-256 ${c.statementSha256}${c.reconciliation === null ? "" : `; ${c.reconciliation}`}`
    )
  }).pipe(Effect.provide(MonthsCliLive), Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription(
      "Close a month: its figures never change afterwards (later differences become adjustments of the next open month)"
    )
  )

const reopen = Command.make("reopen", { month, reason: reopenReason }, (args) =>
  Effect.gen(function*() {
    yield* checked(args.month)
    const months = yield* Months
    const r = yield* Effect.catchAll(months.reopen(args.month, "cli", args.reason), refused)
    yield* Console.log(
      `${r.month} reopened at ${r.at} by cli` +
        (r.folded === 0 ? "" : `; ${r.folded} adjustment row(s) of its days folded back into its rows`)
    )
  }).pipe(Effect.provide(MonthsCliLive), Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription("Reopen the latest closed month (only while no later month is closed), with a reason")
  )

export const monthCommand = Command.make("month").pipe(
  Command.withDescription("Close or reopen an accounting month"),
  Command.withSubcommands([close, reopen])
)
