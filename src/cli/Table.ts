/**
 * The `list` subcommands (`rejected list`, `outbox list`): `--limit N` rows, and with `--json` one
 * JSON object per row and line, nothing else (for scripts); otherwise one text line per row, then
 * a summary line, or one line saying there is nothing. Log lines below errors are kept off the
 * output.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect, type Layer, Logger, LogLevel } from "effect"

export interface ListHelp {
  /** the command's description */
  readonly description: string
  /** what `--limit` counts, e.g. "how many spans to list, newest first" */
  readonly limit: string
}

export interface RowListing<A, E, R> {
  readonly toJson: (row: A) => string
  readonly line: (row: A) => string
  /** how many rows there are in all, listed or not (default: the listed ones); not read with `--json` */
  readonly total?: Effect.Effect<number, E, R>
  /** the line when there is none */
  readonly none: string
  readonly summary: (listed: number, total: number) => string
}

const json = Options.boolean("json").pipe(Options.withDescription("one JSON object per line instead of text"))

/** `rows` gives at most `limit` rows (at least 1); it and `listing.total` run with `layer`. */
export const listCommand = <A, E, R, LE>(
  help: ListHelp,
  rows: (limit: number) => Effect.Effect<ReadonlyArray<A>, E, R>,
  listing: RowListing<A, E, R>,
  layer: Layer.Layer<R, LE>
) =>
  Command.make("list", {
    limit: Options.integer("limit").pipe(Options.withDescription(help.limit), Options.withDefault(100)),
    json
  }, (args) =>
    Effect.gen(function*() {
      const listed = yield* rows(Math.max(1, args.limit))
      if (args.json) {
        for (const row of listed) yield* Console.log(listing.toJson(row))
        return
      }
      const total = listing.total === undefined ? listed.length : yield* listing.total
      if (total === 0) return yield* Console.log(listing.none)
      for (const row of listed) yield* Console.log(listing.line(row))
      yield* Console.log(listing.summary(listed.length, total))
    }).pipe(Effect.provide(layer), Logger.withMinimumLogLevel(LogLevel.Error))).pipe(
      Command.withDescription(help.description)
    )
