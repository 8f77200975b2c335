/** Small builders every command file shares: optional options, a group of commands, a quiet program over its layers. */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Effect, type Layer, Logger, LogLevel } from "effect"

/** An option that may be left out, with its help text. */
export const optional = <A>(option: Options.Options<A>, description: string) =>
  option.pipe(Options.withDescription(description), Options.optional)

/** A one-off command's program over its own layers, printing nothing of the log unless an error. */
export const quietlyOver = <ROut, LE>(layer: Layer.Layer<ROut, LE>) =>
<A, E, R>(program: Effect.Effect<A, E, R>) =>
  program.pipe(Effect.provide(layer), Logger.withMinimumLogLevel(LogLevel.Error))

/** `mai-usage <name> <subcommand…>`: a group of commands with its help line. */
export const commandGroup = <Subs extends readonly [Command.Command<any, any, any, any>, ...Array<Command.Command<any, any, any, any>>]>(
  name: string,
  description: string,
  subcommands: Subs
) => Command.make(name).pipe(Command.withDescription(description), Command.withSubcommands(subcommands))
