/**
 * The usage store of InfluxDB mode: per (user, model) sums for one client and one
 * window, with one InfluxQL statement on `/query`.
 *
 * Exact sums: InfluxDB answers `sum()` of integer fields as int64, printed as bare JSON numbers.
 * `JSON.parse` would round those above 2^53 (a cost sum of 9 million USD in nano-USD), so the
 * answer is parsed by `parseJsonExact`, which quotes every integer token before `JSON.parse`;
 * values are then read with `BigInt`. A non-integer value (a float field written by someone
 * else into the same measurement) is refused rather than rounded.
 */
import { Effect, Layer } from "effect"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import * as InfluxClient from "./InfluxClient.js"
import { Ledger } from "./Ledger.js"
import * as Outbox from "./Outbox.js"
import { decodeTag, encodeTag } from "./UsagePoint.js"
import { toNs, UsageStore, UsageStoreError, type UsageWindow } from "./UsageStore.js"

/** An InfluxQL identifier: always double-quoted (`user` is a keyword). */
export const identifier = (name: string) => `"${name.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`

/** An InfluxQL string literal. */
export const stringLiteral = (value: string) =>
  `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`

const SUMS = ["input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "cost_nusd"] as const

export const aggregateQuery = (measurement: string, window: UsageWindow) =>
  `SELECT count("cost_nusd") AS "requests", ${SUMS.map((f) => `sum(${identifier(f)}) AS ${identifier(f)}`).join(", ")}` +
  ` FROM ${identifier(measurement)}` +
  ` WHERE "client_org_id" = ${stringLiteral(encodeTag(window.clientOrgId))}` +
  ` AND time >= ${toNs(window.start)} AND time < ${toNs(window.end)}` +
  ` GROUP BY "user", "model"`

const isDigit = (c: number) => c >= 48 && c <= 57
const isNumberChar = (c: number) => isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45

/** `JSON.parse`, with every integer number token turned into a string first (no digit lost). */
export const parseJsonExact = (text: string): unknown => {
  let out = ""
  let copied = 0
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      // a string: skip to its closing quote, stepping over escapes
      i++
      while (i < text.length) {
        const d = text.charCodeAt(i)
        if (d === 92) i += 2
        else if (d === 34) {
          i++
          break
        } else i++
      }
    } else if (c === 45 || isDigit(c)) {
      let j = i + 1
      while (j < text.length && isNumberChar(text.charCodeAt(j))) j++
      if (/^-?\d+$/.test(text.slice(i, j))) {
        out += text.slice(copied, i) + "\"" + text.slice(i, j) + "\""
        copied = j
      }
      i = j
    } else i++
  }
  return JSON.parse(out + text.slice(copied))
}

interface Series {
  readonly tags?: Record<string, string>
  readonly columns: ReadonlyArray<string>
  readonly values: ReadonlyArray<ReadonlyArray<unknown>>
  readonly partial?: boolean
}
interface QueryAnswer {
  readonly error?: string
  readonly results?: ReadonlyArray<{ readonly error?: string; readonly partial?: boolean; readonly series?: ReadonlyArray<Series> }>
}

const integer = (v: unknown, column: string): bigint => {
  if (v === null || v === undefined) return 0n
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v)
  throw new Error(`column ${column} is not an integer: ${JSON.stringify(v)}`)
}

/** The aggregate rows of an InfluxDB `/query` answer to `aggregateQuery`. */
export const parseAggregate = (text: string): ReadonlyArray<UsageAggregate> => {
  const answer = parseJsonExact(text) as QueryAnswer
  if (answer.error !== undefined) throw new Error(answer.error)
  const result = answer.results?.[0]
  if (result === undefined) throw new Error("no result in the answer")
  if (result.error !== undefined) throw new Error(result.error)
  if (result.partial === true) throw new Error("the answer was truncated (partial)")
  const rows: Array<UsageAggregate> = []
  for (const series of result.series ?? []) {
    if (series.partial === true) throw new Error("the answer was truncated (partial)")
    const at = (row: ReadonlyArray<unknown>, column: string) => {
      const i = series.columns.indexOf(column)
      if (i < 0) throw new Error(`column ${column} missing`)
      return integer(row[i], column)
    }
    for (const row of series.values) {
      rows.push({
        user: decodeTag(series.tags?.user ?? ""),
        model: decodeTag(series.tags?.model ?? ""),
        requests: Number(at(row, "requests")),
        inputTokens: Number(at(row, "input_tokens")),
        outputTokens: Number(at(row, "output_tokens")),
        totalTokens: Number(at(row, "total_tokens")),
        cachedTokens: Number(at(row, "cached_tokens")),
        reasoningTokens: Number(at(row, "reasoning_tokens")),
        costNusd: at(row, "cost_nusd")
      })
    }
  }
  return rows
}

/** Aggregation alone, on a client (what the benchmark times against the bare query). */
export const aggregateWith = (client: InfluxClient.InfluxClientShape) => (window: UsageWindow) =>
  client.query(aggregateQuery(client.settings.measurement, window)).pipe(
    Effect.mapError((e) => new UsageStoreError({ message: e.message })),
    Effect.flatMap((text) =>
      Effect.try({
        try: () => parseAggregate(text),
        catch: (e) => new UsageStoreError({ message: `InfluxDB query answer: ${(e as Error).message}` })
      })
    )
  )

export const make = Effect.gen(function*() {
  const client = yield* InfluxClient.InfluxClient
  const outbox = yield* Outbox.Outbox
  const ledger = yield* Ledger

  const ensureComplete = (window: UsageWindow) =>
    Effect.gen(function*() {
      const drained = yield* Effect.either(outbox.drain)
      const left = yield* ledger.backlog(window)
      if (left > 0) {
        const why = drained._tag === "Left" ? `: ${drained.left.message}` : ""
        return yield* new UsageStoreError({
          message: `${left} events of the window are not in InfluxDB yet (outbox not drained${why})`
        })
      }
    }).pipe(Effect.catchTag("LedgerUnavailable", (e) => new UsageStoreError({ message: e.message })))

  return UsageStore.of({ source: "influxdb", aggregate: aggregateWith(client), ensureComplete })
})

/** The InfluxDB usage store with its outbox (shared with the flusher: layers are memoised). */
export const layer = Layer.effect(UsageStore, make).pipe(Layer.provide([Outbox.layer, InfluxClient.layer]))
