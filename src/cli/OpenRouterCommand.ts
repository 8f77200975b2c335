/**
 * `mai-usage openrouter connect --url <public webhook URL>` and `mai-usage openrouter check`:
 * this client's Broadcast destination, set up idempotently and checked. Both need
 * OPENROUTER_MANAGEMENT_KEY (exit 2 without it). connect: exit 0 when created or updated, 1 when
 * OpenRouter refused or could not be reached. check: exit 0 when nothing loses billing data, 1 when
 * something does or OpenRouter could not be reached.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect, Either, type Layer, Logger, LogLevel, Option } from "effect"
import * as Config from "../platform/Config.js"
import { AppConfig } from "../platform/Config.js"
import { ExitCode } from "../platform/ExitCode.js"
import { type CheckReport, make as makeDestinations, MAX_PER_TYPE } from "../openrouter/Destinations.js"
import { ReconcileCliLive } from "./ReconcileCommand.js"
import { periodUsage } from "../alerts/Enforcement.js"
import { OpenRouterApi } from "../openrouter/OpenRouterApi.js"
import { Reconciler } from "../openrouter/Reconciler.js"

const bad = (reason: string) => Effect.zipRight(Console.error(`openrouter: ${reason}`), Effect.fail(new ExitCode({ code: 2 })))

type Destinations = Effect.Effect.Success<typeof makeDestinations>

/**
 * `use` on this client's destinations, with the CLI's layers: exit 2 without a management key;
 * when OpenRouter (or the summary DB) fails, one line and exit 1.
 */
const withDestinations = <A, E extends { readonly message: string }>(
  command: string,
  use: (destinations: Destinations) => Effect.Effect<A, E, Layer.Layer.Success<typeof ReconcileCliLive>>
) =>
  Effect.gen(function*() {
    const config = yield* Effect.provide(AppConfig, Config.layer)
    if (config.openRouter.managementKey === undefined) {
      return yield* bad("OPENROUTER_MANAGEMENT_KEY is not set: Broadcast destinations are managed with a management key")
    }
    const outcome = yield* Effect.flatMap(makeDestinations, use).pipe(Effect.provide(ReconcileCliLive), Effect.either)
    if (Either.isLeft(outcome)) {
      yield* Console.error(`openrouter ${command}: ${outcome.left.message}`)
      return yield* Effect.fail(new ExitCode({ code: 1 }))
    }
    return outcome.right
  })

const validUrl = (u: string): Either.Either<string, string> => {
  try {
    const x = new URL(u)
    if (x.protocol !== "https:" && x.protocol !== "http:") return Either.left(`--url: not an http(s) URL: ${u}`)
    if (x.username !== "" || x.password !== "") return Either.left("--url: must not contain credentials")
    return Either.right(x.toString())
  } catch {
    return Either.left(`--url: malformed URL: ${u}`)
  }
}

export const reportLines = (r: CheckReport): Array<string> => [
  ...r.destinations.map((d) =>
    `destination "${d.name}" (${d.id}): ${d.url}, ${d.enabled ? "enabled" : "disabled"}, sampling ${d.samplingRate}, ` +
    `privacy ${d.privacyMode ? "on" : "off"}, keys ${d.apiKeyHashes === null ? "all" : d.apiKeyHashes.length}`
  ),
  ...r.problems,
  ...r.findings.map((f) => `${f.severity}: ${f.message}`),
  `webhook destinations in use: ${r.webhooksUsed} of ${MAX_PER_TYPE}`,
  r.ok ? "ok: nothing loses billing data" : "NOT OK: billing data is being lost (see above)"
]

const connectUrl = Options.text("url").pipe(
  Options.withDescription("the webhook's public URL, e.g. https://usage.example.pl/api/v1/webhooks/openrouter")
)
const checkUrl = Options.text("url").pipe(
  Options.withDescription("the webhook's public URL (default: the one the last connect used)"),
  Options.optional
)

/** Each of the client's keys with the limit in force (enforcement sets it: docs/budgets.md) and its usage in the limit's period. */
const keyLimitLines = Effect.gen(function*() {
  const api = yield* OpenRouterApi
  const hashes = yield* Effect.flatMap(Reconciler, (r) => r.keyHashes)
  const keys = yield* api.listKeys
  return hashes.map((hash) => {
    const k = keys.find((x) => x.hash === hash)
    const name = `key ${k?.name ?? "?"} (${hash.slice(0, 12)}…)`
    if (k === undefined) return `${name}: not in OpenRouter's keys list`
    const period = k.limit_reset ?? "never resets"
    return k.limit == null
      ? `${name}: no limit; usage USD ${(k.usage ?? 0).toFixed(2)}`
      : `${name}: limit USD ${k.limit.toFixed(2)} (${period}), usage in the period USD ${periodUsage(k).toFixed(2)}`
  })
})

const connect = Command.make("connect", { url: connectUrl }, (args) =>
  Effect.gen(function*() {
    const url = validUrl(args.url)
    if (Either.isLeft(url)) return yield* bad(url.left)
    const { action, destination, others } = yield* withDestinations("connect", (d) => d.connect(url.right))
    yield* Console.log(
      `${action} destination "${destination.name}" (${destination.id}): POST ${url.right}, Authorization: Bearer <OPENROUTER_WEBHOOK_SECRET>, ` +
        `privacy mode on, sampling rate 1, only this client's key, enabled`
    )
    for (const o of others) yield* Console.error(`warning: destination "${o}" also points at this client; disable or delete it`)
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription("Create or update (idempotently) this client's one Broadcast webhook destination in OpenRouter")
  )

const check = Command.make("check", { url: checkUrl }, (args) =>
  Effect.gen(function*() {
    const url = Option.isSome(args.url) ? validUrl(args.url.value) : Either.right(undefined)
    if (Either.isLeft(url)) return yield* bad(url.left)
    const report = yield* withDestinations("check", (d) => d.check(url.right))
    for (const line of reportLines(report)) yield* (report.ok ? Console.log(line) : Console.error(line))
    yield* keyLimitLines.pipe(
      Effect.provide(ReconcileCliLive),
      Effect.matchEffect({
        onSuccess: (lines) => Effect.forEach(lines, (l) => Console.log(l), { discard: true }),
        onFailure: (e) => Console.error(`key limits: ${e.message}`)
      })
    )
    if (!report.ok) return yield* Effect.fail(new ExitCode({ code: 1 }))
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription(
      "List the Broadcast destinations pointing at this client and flag what loses billing data (disabled, sampling < 1, key filter, wrong secret)"
    )
  )

export const openRouterCommand = Command.make("openrouter").pipe(
  Command.withDescription("Set up or check this client's Broadcast destination in OpenRouter"),
  Command.withSubcommands([connect, check])
)
