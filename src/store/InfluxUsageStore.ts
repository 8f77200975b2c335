/**
 * The usage store of InfluxDB mode: per (user, model) sums for one client and one
 * window, with one InfluxQL statement on `/query`.
 *
 * Exact sums: InfluxDB answers `sum()` of integer fields as int64, printed as bare JSON numbers.
 * `JSON.parse` would round those above 2^53 (a cost sum of 9 million USD in nano-USD), so the
 * answer is parsed by `parseJsonExact`, which quotes every integer token before `JSON.parse`;
 * values are then read with `BigInt`. A non-integer value (a float field written by someone
 * else into the same measurement) is refused rather than rounded.
 *
 * No overflow: InfluxDB sums int64 fields in int64 and wraps silently past 2^63 (two points of
 * 5e18 nano-USD sum to a negative number; so does `mean()`, which sums in int64 first). Each field
 * is also summed as a float (`sum("f"::float)`, which never wraps); that locates the true sum to far
 * better than 2^63, which picks the one value congruent to the wrapped sum modulo 2^64: the exact
 * sum, as BigInt (`unwrapSum`).
 */
import { Effect, Layer } from "effect"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import * as InfluxClient from "./InfluxClient.js"
import { Ledger } from "./Ledger.js"
import { exactCount, SUMMED, type SummedColumn, tokenCountsBy } from "./Rows.js"
import * as Outbox from "./Outbox.js"
import { decodeTag, encodeTag } from "./UsagePoint.js"
import { toNs, UsageStore, UsageStoreError, type UsageWindow } from "./UsageStore.js"

/** An InfluxQL identifier: always double-quoted (`user` is a keyword). */
export const identifier = (name: string) => `"${name.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`

/** An InfluxQL string literal. */
export const stringLiteral = (value: string) =>
  `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`

export const aggregateQuery = (measurement: string, window: UsageWindow, by: "user" | "api_key" = "user") =>
  `SELECT count("cost_nusd") AS "requests", ` +
  SUMMED.map((f) => `sum(${identifier(f)}) AS ${identifier(f)}, sum(${identifier(f)}::float) AS ${identifier(`${f}_float`)}`).join(", ") +
  ` FROM ${identifier(measurement)}` +
  ` WHERE "client_org_id" = ${stringLiteral(encodeTag(window.clientOrgId))}` +
  ` AND time >= ${toNs(window.start)} AND time < ${toNs(window.end)}` +
  ` GROUP BY ${identifier(by)}, "model"`

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

const TWO_63 = 1n << 63n
const TWO_64 = 1n << 64n
const floorDiv = (a: bigint, b: bigint) => {
  const q = a / b
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q
}

/** The exact sum from InfluxDB's int64 sum (wrapped modulo 2^64) and a float approximation of it. */
export const unwrapSum = (wrapped: bigint, approx: number): bigint => {
  if (!Number.isFinite(approx)) throw new Error(`no usable approximation of the sum ${wrapped}`)
  const k = floorDiv(BigInt(Math.round(approx)) - wrapped + TWO_63, TWO_64)
  return wrapped + k * TWO_64
}

const float = (v: unknown, column: string): number => {
  if (v === null || v === undefined) return 0
  const n = Number(v)
  if (typeof v === "boolean" || !Number.isFinite(n)) throw new Error(`column ${column} is not a number: ${JSON.stringify(v)}`)
  return n
}

/** The aggregate rows of an InfluxDB `/query` answer to `aggregateQuery`. */
export const parseAggregate = (text: string, by: "user" | "api_key" = "user"): ReadonlyArray<UsageAggregate> => {
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
      const requests = at(row, "requests")
      const sum = (column: SummedColumn) => {
        const i = series.columns.indexOf(`${column}_float`)
        if (i < 0) throw new Error(`column ${column}_float missing`)
        return unwrapSum(at(row, column), float(row[i], `${column}_float`))
      }
      const user = decodeTag(series.tags?.[by] ?? "")
      const model = decodeTag(series.tags?.model ?? "")
      const count = (column: SummedColumn) => exactCount(sum(column), `${column} of ${JSON.stringify(user.slice(0, 80))}`)
      rows.push({
        user,
        model,
        requests: exactCount(requests, "requests"),
        ...tokenCountsBy(count),
        costNusd: sum("cost_nusd")
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
      const quarantined = yield* ledger.quarantinedCount(window)
      if (quarantined > 0) {
        return yield* new UsageStoreError({
          message: `${quarantined} event${quarantined === 1 ? "" : "s"} of the window ${quarantined === 1 ? "was" : "were"} ` +
            "refused by InfluxDB and quarantined; inspect with `mai-usage outbox list`, fix the cause, then run " +
            "`mai-usage outbox retry`"
        })
      }
      const left = yield* ledger.backlog(window)
      if (left > 0) {
        const why = drained._tag === "Left" ? `: ${drained.left.message}` : ""
        return yield* new UsageStoreError({
          message: `${left} events of the window are not in InfluxDB yet (outbox not drained${why})`
        })
      }
    }).pipe(Effect.catchTag("LedgerUnavailable", (e) => new UsageStoreError({ message: e.message })))

  const pending = (window: UsageWindow) =>
    ledger.pending(window).pipe(Effect.mapError((e) => new UsageStoreError({ message: e.message })))

  const aggregateByKey = (window: UsageWindow) =>
    client.query(aggregateQuery(client.settings.measurement, window, "api_key")).pipe(
      Effect.mapError((e) => new UsageStoreError({ message: e.message })),
      Effect.flatMap((text) =>
        Effect.try({
          try: () => parseAggregate(text, "api_key").map((r) => ({ apiKeyName: r.user, model: r.model, requests: r.requests, costNusd: r.costNusd })),
          catch: (e) => new UsageStoreError({ message: `InfluxDB query answer: ${(e as Error).message}` })
        })
      )
    )

  return UsageStore.of({ source: "influxdb", aggregate: aggregateWith(client), ensureComplete, pending, aggregateByKey })
})

/** The InfluxDB usage store with its outbox (shared with the flusher: layers are memoised). */
export const layer = Layer.effect(UsageStore, make).pipe(Layer.provide([Outbox.Outbox.Default, InfluxClient.layer]))
