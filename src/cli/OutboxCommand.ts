/**
 * `mai-usage outbox list [--limit N] [--json]`: the ledger rows InfluxDB refused for good (or whose
 * tags it could not take), oldest first, with InfluxDB's reason. They are kept, not billed yet: a
 * batch run for their day fails until they reach InfluxDB.
 *
 * `mai-usage outbox retry [--id N]…`: after the operator's fix (a dropped shard holding a
 * conflicting field type, a corrected ledger row…), gives the quarantined rows (all, or these ids)
 * back to the outbox and drains it once from this process; what InfluxDB still refuses is
 * quarantined again with its reason. Exit 1 when some rows remain quarantined. A running server
 * would pick the released rows up on its own as well (writing a point twice lands on itself).
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect, Logger, LogLevel } from "effect"
import { LedgerCliLive } from "./LedgerCli.js"
import { AppConfig } from "../platform/Config.js"
import { listCommand } from "./Table.js"
import { ExitCode } from "../platform/ExitCode.js"
import { Ledger, type OutboxQuarantinedRow } from "../store/Ledger.js"
import * as Outbox from "../store/Outbox.js"


const ids = Options.integer("id").pipe(
  Options.withDescription("retry only this ledger row (repeatable; default: every quarantined row)"),
  Options.repeated
)

/** One line per row: ledger id, when, the event, and InfluxDB's reason. */
export const describeQuarantined = (r: OutboxQuarantinedRow): string =>
  `#${r.id} ${new Date(r.quarantinedAtMs).toISOString()} ${r.generationId.slice(0, 80)} ` +
  `event=${new Date(Number(r.eventTimeNs / 1_000_000n)).toISOString()} user=${JSON.stringify(r.user.slice(0, 80))} ` +
  `model=${JSON.stringify(r.model.slice(0, 80))} cost_nusd=${r.costNusd}: ${r.reason}`

const toJson = (r: OutboxQuarantinedRow) =>
  JSON.stringify({
    id: String(r.id),
    generationId: r.generationId,
    eventTimeNs: String(r.eventTimeNs),
    clientOrgId: r.clientOrgId,
    user: r.user,
    model: r.model,
    apiKeyName: r.apiKeyName,
    provider: r.provider,
    costNusd: String(r.costNusd),
    quarantinedAt: new Date(r.quarantinedAtMs).toISOString(),
    reason: r.reason
  })

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const list = listCommand(
  { description: "List the ledger rows InfluxDB refused for good, oldest first, with InfluxDB's reason", limit: "how many rows to list, oldest first" },
  (limit) => Effect.flatMap(Ledger, (ledger) => ledger.outboxQuarantined(limit)),
  {
    toJson,
    line: describeQuarantined,
    total: Effect.flatMap(Ledger, (ledger) => ledger.quarantinedCount()),
    none: "no quarantined outbox rows",
    summary: (listed, total) =>
      `${plural(total, "quarantined row")}${listed < total ? ` (${listed} listed)` : ""}; after fixing the cause: mai-usage outbox retry`
  },
  LedgerCliLive
)

const retry = Command.make("retry", { ids }, (args) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (config.influx === undefined) {
      yield* Console.error("outbox retry: embedded mode (no INFLUXDB_URL): there is no outbox to retry")
      return yield* Effect.fail(new ExitCode({ code: 2 }))
    }
    const ledger = yield* Ledger
    const released = yield* ledger.releaseQuarantine(args.ids.length === 0 ? undefined : args.ids.map(BigInt))
    if (released === 0) return yield* Console.log("no quarantined outbox rows to retry")
    const drained = yield* Effect.flatMap(Outbox.Outbox, (o) => o.drain).pipe(
      Effect.provide(Outbox.Outbox.Default),
      Effect.catchAll((e) =>
        Effect.zipRight(
          Console.error(`outbox retry: ${plural(released, "row")} released, but the outbox could not drain: ${e.message}`),
          Effect.fail(new ExitCode({ code: 1 }))
        )
      )
    )
    const left = yield* ledger.quarantinedCount()
    yield* Console.log(`${plural(released, "row")} released; the outbox went through ${plural(drained, "row")}`)
    if (left > 0) {
      yield* Console.error(`${plural(left, "row")} still quarantined: see mai-usage outbox list`)
      return yield* Effect.fail(new ExitCode({ code: 1 }))
    }
  }).pipe(Effect.provide(LedgerCliLive), Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
    Command.withDescription("Give quarantined rows back to the outbox after a fix and write them to InfluxDB now")
  )

export const outboxCommand = Command.make("outbox").pipe(
  Command.withDescription("Inspect and retry the InfluxDB outbox's quarantined rows"),
  Command.withSubcommands([list, retry])
)
