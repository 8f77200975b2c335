/**
 * `mai-usage reconcile [--date D | --from A --to B]`: compares the usage store with OpenRouter's
 * activity for completed UTC days (default: yesterday, UTC), stores the outcome as the schedule
 * does and prints one line per day plus one per model that differs.
 * Exit 0 when every day is ok, 1 when a day is missing, extra or unavailable, 2 on bad arguments
 * or when OPENROUTER_MANAGEMENT_KEY is not set.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Clock, Console, Effect, Either, Layer, Logger, LogLevel, Option } from "effect"
import { PlatformLive } from "../platform/PlatformLive.js"
import { LedgerLive, SummaryDbLive, UsageStoreLive } from "../store/StoreLive.js"
import * as Config from "../platform/Config.js"
import { AppConfig } from "../platform/Config.js"
import { formatUsd } from "../domain/Money.js"
import { completedWindow } from "../domain/Reconcile.js"
import { parseDay } from "../domain/WarsawDay.js"
import { ExitCode } from "../platform/ExitCode.js"
import { OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { OpenRouterRepo } from "../openrouter/OpenRouterRepo.js"
import { type DayResult, Reconciler } from "../openrouter/Reconciler.js"

const date = Options.text("date").pipe(
  Options.withPseudoName("YYYY-MM-DD"),
  Options.withDescription("the UTC day to reconcile, YYYY-MM-DD (default: yesterday, UTC)"),
  Options.optional
)
const from = Options.text("from").pipe(Options.withPseudoName("YYYY-MM-DD"), Options.withDescription("first UTC day of a range, YYYY-MM-DD"), Options.optional)
const to = Options.text("to").pipe(Options.withPseudoName("YYYY-MM-DD"), Options.withDescription("last UTC day of a range, YYYY-MM-DD"), Options.optional)

/** The reconciliation's layers for a one-off process: configuration from the environment, no server. */
export const ReconcileCliLive = Layer.mergeAll(Reconciler.Default, OpenRouterApi.Default, OpenRouterRepo.Default).pipe(
  Layer.provideMerge(UsageStoreLive),
  Layer.provideMerge(Layer.mergeAll(SummaryDbLive, LedgerLive)),
  Layer.provideMerge(PlatformLive)
)

/** The days asked for, each a completed UTC day of OpenRouter's 30-day window; or why not. */
export const requestedUtcDays = (
  args: { readonly date?: string; readonly from?: string; readonly to?: string },
  nowMs: number
): Either.Either<ReadonlyArray<string>, string> => {
  const window = completedWindow(nowMs)
  const valid = (name: string, d: string): Either.Either<string, string> => {
    const parsed = parseDay(d)
    if (Either.isLeft(parsed)) return Either.left(`--${name}: ${parsed.left.message}`)
    if (!window.includes(d)) {
      return Either.left(
        `--${name}: ${d} is not a completed UTC day of OpenRouter's activity window (${window[0]} to ${window[window.length - 1]})`
      )
    }
    return Either.right(d)
  }
  if (args.date !== undefined) {
    if (args.from !== undefined || args.to !== undefined) return Either.left("use either --date or --from/--to, not both")
    return Either.map(valid("date", args.date), (d) => [d])
  }
  if (args.from === undefined && args.to === undefined) return Either.right([window[window.length - 1]])
  if (args.from === undefined || args.to === undefined) return Either.left("--from and --to go together")
  return Either.gen(function*() {
    const a = yield* valid("from", args.from!)
    const b = yield* valid("to", args.to!)
    if (b < a) return yield* Either.left(`--to (${b}) is before --from (${a})`)
    return window.filter((d) => d >= a && d <= b)
  })
}

export const describeDay = (r: DayResult): Array<string> => {
  if (r.status === "unavailable") return [`${r.date}: unavailable: ${r.error}`]
  const differing = r.models.filter((m) => m.status !== "ok")
  const requests = r.models.reduce((n, m) => n + m.openRouter.requests, 0)
  const head = r.status === "ok"
    ? `${r.date}: ok: ${r.models.length} model(s), ${requests} request(s) as OpenRouter counts them`
    : `${r.date}: ${r.status}: ${differing.length} of ${r.models.length} model(s) differ`
  const other = r.otherKeys !== null && r.otherKeys.requests > 0
    ? [`  other keys (not compared): ${r.otherKeys.requests} request(s), USD ${formatUsd(r.otherKeys.costNusd)}`]
    : []
  return [
    head,
    ...other,
    ...differing.map((m) =>
      m.status === "missing"
        ? `  ${m.model}: missing ${m.missingRequests} request(s), USD ${formatUsd(m.missingNusd)} ` +
          `(OpenRouter ${m.openRouter.requests} / USD ${formatUsd(m.openRouter.costNusd)}, ledger ${m.ledger.requests} / USD ${formatUsd(m.ledger.costNusd)})`
        : `  ${m.model}: extra: ledger ${m.ledger.requests} / USD ${formatUsd(m.ledger.costNusd)}, ` +
          `OpenRouter ${m.openRouter.requests} / USD ${formatUsd(m.openRouter.costNusd)}`
    )
  ]
}

const bad = (reason: string) => Effect.zipRight(Console.error(`reconcile: ${reason}`), Effect.fail(new ExitCode({ code: 2 })))

export const reconcileCommand = Command.make("reconcile", { date, from, to }, (args) =>
  Effect.gen(function*() {
    const days = requestedUtcDays(
      { date: Option.getOrUndefined(args.date), from: Option.getOrUndefined(args.from), to: Option.getOrUndefined(args.to) },
      yield* Clock.currentTimeMillis
    )
    if (Either.isLeft(days)) return yield* bad(days.left)
    const config = yield* Effect.provide(AppConfig, Config.layer)
    if (config.openRouter.managementKey === undefined) {
      return yield* bad("OPENROUTER_MANAGEMENT_KEY is not set: OpenRouter's activity API needs a management key")
    }
    const notOk = yield* Effect.gen(function*() {
      const reconciler = yield* Reconciler
      let n = 0
      for (const day of days.right) {
        const r = yield* reconciler.reconcile(day)
        for (const line of describeDay(r)) yield* (r.status === "ok" ? Console.log(line) : Console.error(line))
        if (r.status !== "ok") n++
      }
      return n
    }).pipe(Effect.provide(ReconcileCliLive))
    if (notOk > 0) return yield* Effect.fail(new ExitCode({ code: 1 }))
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription(
      "Compare the ledger with OpenRouter's activity for completed UTC days (default yesterday); exit 1 when a day is not ok"
    )
  )
