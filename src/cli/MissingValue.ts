/**
 * `batch --run-now --date` (no value after `--date`): @effect/cli reads an optional option without
 * its value as absent and then reports `Received unknown argument: '--date'`. Before parsing, the
 * command line is checked against the options that take a value, so the operator is told which
 * option lacks its value.
 */
import type * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import type * as Usage from "@effect/cli/Usage"
import { Option } from "effect"

const GENERIC_KINDS = new Set(["text", "file", "directory", "path", "integer", "float", "date"])

/** Every `--name` of the command tree that takes a value, with what the value looks like. */
export const valueOptions = (command: Command.Command<any, any, any, any>): Map<string, string> => {
  const found = new Map<string, string>()
  const fromUsage = (u: Usage.Usage): void => {
    switch (u._tag) {
      case "Named":
        if (Option.isSome(u.acceptedValues)) {
          // One name in several commands: keep the most telling form (YYYY-MM-DD over plain "text").
          for (const name of u.names) {
            const known = found.get(name)
            if (name.startsWith("-") && (known === undefined || GENERIC_KINDS.has(known))) found.set(name, u.acceptedValues.value)
          }
        }
        return
      case "Optional":
      case "Repeated":
        return fromUsage(u.usage)
      case "Alternation":
      case "Concat":
        fromUsage(u.left)
        return fromUsage(u.right)
      default:
        return
    }
  }
  // The descriptor's shape (Standard, Map, Subcommands) is walked to reach nested subcommands,
  // which the public `getSubcommands` flattens away.
  const walk = (d: any): void => {
    if (d === null || typeof d !== "object") return
    switch (d._tag) {
      case "Standard":
      case "GetUserInput":
        return fromUsage(Descriptor.getUsage(d))
      case "Map":
        return walk(d.command)
      case "Subcommands":
        walk(d.parent)
        for (const child of d.children ?? []) walk(child)
        return
    }
  }
  walk(command.descriptor)
  return found
}

/** The one-line reason when an option that takes a value is last or followed by another option. */
export const missingValue = (args: ReadonlyArray<string>, options: ReadonlyMap<string, string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const kind = options.get(args[i])
    if (kind === undefined) continue
    const next = args[i + 1]
    if (next === undefined || (next.startsWith("--") && next.length > 2)) {
      return `${args[i]} needs a value: ${args[i]} ${kind}`
    }
    i++
  }
  return undefined
}
