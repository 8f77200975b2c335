/**
 * What the CLI prints. @effect/cli renders its help and usage errors with ANSI colours always; the
 * console here keeps them only when the stream is a terminal and `NO_COLOR` is unset
 * (https://no-color.org), so a pipe or a log file gets plain text. It also leaves out the library's
 * generic type sentences ("A user-defined piece of text.") that would stand beside our own
 * description of each option.
 */
import { Console, Effect } from "effect"
import { stripVTControlCharacters } from "node:util"

export interface ColourPolicy {
  readonly stdoutIsTty: boolean
  readonly stderrIsTty: boolean
  readonly noColor: boolean
}

export const colourPolicy = (): ColourPolicy => ({
  stdoutIsTty: process.stdout.isTTY === true,
  stderrIsTty: process.stderr.isTTY === true,
  // Any value, even empty, asks for no colour.
  noColor: process.env.NO_COLOR !== undefined
})

/** The library's descriptions of an option's type, printed before ours: noise once ours is there. */
const GENERIC = /^ *(A user-defined piece of text\.|A true or false value\.|An integer\.|A floating point number\.|A user-specified file path\.|A date without a time-zone in the ISO-8601 format, such as 2007-12-03T10:15:30\.)\n(\n)?/gm

export const cleanText = (text: string, colour: boolean): string => {
  const plain = colour ? text : stripVTControlCharacters(text)
  return plain.replace(GENERIC, "")
}

const clean = (colour: boolean) => (args: ReadonlyArray<unknown>) =>
  args.map((a) => (typeof a === "string" ? cleanText(a, colour) : a))

/** The default console, with `log`/`info` and `error`/`warn` cleaned for their stream. */
export const cliConsole = (base: Console.Console, policy: ColourPolicy = colourPolicy()): Console.Console => {
  const out = clean(policy.stdoutIsTty && !policy.noColor)
  const err = clean(policy.stderrIsTty && !policy.noColor)
  return {
    ...base,
    log: (...args) => base.log(...out(args)),
    info: (...args) => base.info(...out(args)),
    error: (...args) => base.error(...err(args)),
    warn: (...args) => base.warn(...err(args)),
    unsafe: {
      ...base.unsafe,
      log: (...args) => base.unsafe.log(...out(args)),
      info: (...args) => base.unsafe.info(...out(args)),
      error: (...args) => base.unsafe.error(...err(args)),
      warn: (...args) => base.unsafe.warn(...err(args))
    }
  }
}

export const withCliConsole = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Console.consoleWith((base) => Effect.withConsole(self, cliConsole(base)))

/** "1 row", "2 rows", "0 rows". */
export const plural = (n: number | bigint, one: string, many: string = `${one}s`): string =>
  `${n} ${n === 1 || n === 1n ? one : many}`
