/**
 * `mai-usage budget set|list|remove|evaluate`: the budgets, through the same `BudgetAlerts` program
 * as the admin API and the dashboard. `evaluate [--month YYYY-MM]` evaluates at once and sends what
 * is due, waiting for every delivery (retries included) before it exits. Exit 0 done, 1 refused or
 * a database failed, 2 bad arguments or configuration.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect, Layer, Option } from "effect"
import type { BudgetStatus, BudgetView } from "../api/BudgetApi.js"
import { BudgetAlerts } from "../alerts/Budgets.js"
import { Enforcement } from "../alerts/Enforcement.js"
import { OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { Reconciler } from "../openrouter/Reconciler.js"
import { BudgetSpend } from "../billing/BudgetSpend.js"
import { Directory } from "../directory/Directory.js"
import { isMonth } from "../domain/WarsawDay.js"
import { ExitCode } from "../platform/ExitCode.js"
import { BatchCliLive } from "./BatchCommand.js"
import { commandGroup, optional, quietlyOver } from "./Commands.js"

/** The budgets over the summary DB, the usage store, NBP and the directory: no server. */
const BudgetCliLive = BudgetAlerts.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(BudgetSpend.Default, Enforcement.Default)),
  Layer.provideMerge(Layer.mergeAll(Directory.Default, Reconciler.Default, OpenRouterApi.Default)),
  Layer.provideMerge(BatchCliLive)
)

const scope = Args.choice([["client", "client"], ["group", "group"], ["user", "user"]] as const, { name: "scope" }).pipe(
  Args.withDescription("client, group or user")
)
const subject = Args.text({ name: "subject" }).pipe(
  Args.withDescription("a group's id or name, or a user's id or e-mail (none for the client)"),
  Args.optional
)

const refused = (what: string) => (e: { readonly message: string }) =>
  Effect.zipRight(Console.error(`budget ${what}: ${e.message}`), Effect.fail(new ExitCode({ code: 1 })))

/** The directory read now (the CLI does not wait for the background refresh). */
const withNames = Effect.flatMap(Directory, (d) => d.refresh)

const who = (b: BudgetView) =>
  b.scope === "client"
    ? "client"
    : `${b.scope} ${b.subject}${b.name === null ? "" : ` (${b.name}${b.email === null || b.email === b.subject ? "" : `, ${b.email}`})`}`

const line = (b: BudgetView) => `${who(b)}: PLN ${b.amountPln} a month, alerts at ${b.thresholds.map((t) => `${t} %`).join(", ")}`

const set = Command.make("set", {
  scope,
  subject,
  amount: Options.text("amount").pipe(Options.withPseudoName("PLN"), Options.withDescription("the monthly budget in PLN, e.g. 2000 or 2000.50")),
  thresholds: optional(Options.text("thresholds"), "alert thresholds in per cent, comma-separated (default 50,80,100)")
}, (args) =>
  Effect.gen(function*() {
    const budgets = yield* BudgetAlerts
    yield* withNames
    const thresholds = Option.map(args.thresholds, (t) => t.split(",").map((x) => Number(x.trim())))
    const view = yield* budgets.set({
      scope: args.scope,
      subject: Option.getOrUndefined(args.subject),
      amountPln: args.amount,
      thresholds: Option.getOrUndefined(thresholds)
    }).pipe(Effect.catchAll(refused("set")))
    yield* Console.log(`set: ${line(view)}`)
  }).pipe(quietlyOver(BudgetCliLive))).pipe(Command.withDescription("Set (add or replace) a monthly PLN budget"))

const list = Command.make("list", {}, () =>
  Effect.gen(function*() {
    const budgets = yield* BudgetAlerts
    yield* withNames
    const all = yield* Effect.catchAll(budgets.list, refused("list"))
    if (all.length === 0) return yield* Console.log("no budgets")
    for (const b of all) yield* Console.log(line(b))
  }).pipe(quietlyOver(BudgetCliLive))).pipe(Command.withDescription("List the budgets"))

const remove = Command.make("remove", { scope, subject }, (args) =>
  Effect.gen(function*() {
    const budgets = yield* BudgetAlerts
    const s = Option.getOrElse(args.subject, () => "")
    yield* Effect.catchAll(budgets.remove(args.scope, s), refused("remove"))
    yield* Console.log(`removed the ${args.scope} budget${s === "" ? "" : ` of ${s}`}`)
  }).pipe(quietlyOver(BudgetCliLive))).pipe(Command.withDescription("Remove a budget"))

const status = (s: BudgetStatus) =>
  `${who(s.budget)}: ${s.spendPln === null ? "spend unknown" : `PLN ${s.spendPln} of ${s.budget.amountPln} (${s.percent} %)`}` +
  (s.reached.length === 0 ? "" : `; reached ${s.reached.map((t) => `${t} %`).join(", ")}`) +
  (s.alerted.length === 0 ? "" : `; alerted now: ${s.alerted.map((t) => `${t} %`).join(", ")}`) +
  (s.note === null ? "" : ` (${s.note})`)

const evaluate = Command.make("evaluate", {
  month: optional(Options.text("month").pipe(Options.withPseudoName("YYYY-MM")), "the month to evaluate (default: this Warsaw month; a past month as at its end)")
}, (args) =>
  Effect.gen(function*() {
    const month = Option.getOrUndefined(args.month)
    if (month !== undefined && !isMonth(month)) {
      yield* Console.error(`budget evaluate: invalid month ${JSON.stringify(month)}: expected YYYY-MM`)
      return yield* Effect.fail(new ExitCode({ code: 2 }))
    }
    const budgets = yield* BudgetAlerts
    yield* withNames
    const e = yield* Effect.catchAll(budgets.evaluate(month, { wait: true }), refused("evaluate"))
    if (e.budgets.length === 0) return yield* Console.log(`${e.month}: no budgets`)
    yield* Console.log(
      `${e.month} as of ${e.asOf}` +
        (e.indicativeDays.length === 0 ? "" : `; indicative (not yet billed): ${e.indicativeDays.join(", ")}`) +
        (e.unpriced === null ? "" : `; ${e.unpriced}`)
    )
    for (const s of e.budgets) yield* Console.log(status(s))
    const alerts = yield* Effect.catchAll(budgets.alerts(100), refused("evaluate"))
    const now = new Set(e.budgets.flatMap((s) => s.alerted.map((t) => `${s.budget.scope}|${s.budget.subject}|${t}`)))
    for (const a of alerts.alerts.filter((x) => x.month === e.month && now.has(`${x.scope}|${x.subject}|${x.threshold}`))) {
      for (const t of a.attempts) {
        yield* Console.log(`  ${a.threshold} % ${t.channel} attempt ${t.attempt}: ${t.status}${t.error === null ? "" : ` (${t.error})`}`)
      }
    }
  }).pipe(quietlyOver(BudgetCliLive))).pipe(
    Command.withDescription("Evaluate the budgets now and send the alerts due (each threshold once per subject and month)")
  )

export const budgetCommand = commandGroup("budget", "Monthly PLN budgets and their alerts", [set, list, remove, evaluate])
