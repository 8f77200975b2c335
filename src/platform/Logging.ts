/**
 * Log lines: one JSON object per line on stdout, `message` a string and the fields beside it:
 * `{"timestamp":"…","level":"INFO","message":"listening","port":8080}`. Effect's own JSON logger
 * writes `message` as an array with the fields inside it, which log tools cannot filter on.
 * Redacted values print as `<redacted>` (their JSON form); a failure's cause becomes `error`,
 * its first line.
 */
import { Cause, HashMap, Inspectable, List, Logger } from "effect"
import { maskUrlsIn } from "../domain/Redact.js"

const RESERVED = new Set(["timestamp", "level", "message", "error"])

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

const setField = (line: Record<string, unknown>, key: string, value: unknown) => {
  line[RESERVED.has(key) ? `field_${key}` : key] = value
}

export const formatLine = (options: Logger.Logger.Options<unknown>): string => {
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const texts: Array<string> = []
  const fields: Record<string, unknown> = {}
  for (const part of parts) {
    if (isPlainObject(part)) for (const [k, v] of Object.entries(part)) setField(fields, k, v)
    else if (typeof part === "string") texts.push(part)
    else if (part !== undefined) texts.push(Inspectable.toStringUnknown(part))
  }
  const line: Record<string, unknown> = {
    timestamp: options.date.toISOString(),
    level: options.logLevel.label,
    message: texts.join(" ")
  }
  for (const [k, v] of HashMap.toEntries(options.annotations)) setField(line, k, v)
  Object.assign(line, fields)
  if (!Cause.isEmpty(options.cause)) line.error = Cause.pretty(options.cause).split("\n")[0]
  const now = options.date.getTime()
  for (const span of List.toArray(options.spans)) line[`${span.label}Ms`] = now - span.startTime
  // Credentials inside any URL of the line (an error quoting INFLUXDB_URL, say) are masked.
  return maskUrlsIn(safeStringify(line))
}

/** JSON.stringify that never throws: bigints as strings, cycles cut. */
const safeStringify = (value: unknown): string => {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "bigint") return v.toString()
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[circular]"
      seen.add(v)
    }
    return v
  })
}

export const jsonLineLogger = Logger.make((options) => {
  process.stdout.write(formatLine(options) + "\n")
})

/** Replaces Effect's default logger with the JSON-lines one. */
export const JsonLogger = Logger.replace(Logger.defaultLogger, jsonLineLogger)
