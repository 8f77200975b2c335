/** The ledger for a one-off CLI process (no server), and the `<name> list` commands over it. */
import * as Command from "@effect/cli/Command"
import { Effect, Layer } from "effect"
import { PlatformLive } from "../platform/PlatformLive.js"
import { Ledger, type LedgerShape, type LedgerUnavailable } from "../store/Ledger.js"
import { LedgerLive } from "../store/StoreLive.js"
import { type ListHelp, listCommand, type RowListing } from "./Table.js"

/** The ledger over the platform. */
export const LedgerCliLive = LedgerLive.pipe(Layer.provideMerge(PlatformLive))

/** `mai-usage <name> list [--limit N] [--json]`: rows the ledger keeps, as `listing` prints them. */
export const ledgerListCommand = <A>(
  name: string,
  about: string,
  help: ListHelp,
  rows: (ledger: LedgerShape, limit: number) => Effect.Effect<ReadonlyArray<A>, LedgerUnavailable>,
  listing: RowListing<A, LedgerUnavailable, Ledger>
) =>
  Command.make(name).pipe(
    Command.withDescription(about),
    Command.withSubcommands([listCommand(help, (limit) => Effect.flatMap(Ledger, (l) => rows(l, limit)), listing, LedgerCliLive)])
  )
