/**
 * A local stand-in for NBP's USD rates resource, serving the real table A
 * figures of `test/fixtures/nbp/usd-table-a-2016-2025.csv` in NBP's JSON
 * shape and plain-text errors, over real HTTP on 127.0.0.1.
 *
 *   const nbp = await startNbpStandIn()
 *   nbp.url            // http://127.0.0.1:PORT/api/exchangerates/rates/a/usd/
 *   nbp.requests()     // requests received so far
 *   nbp.setDown(true)  // every request is dropped (connection reset), as if NBP were down
 *   nbp.setToday("2025-12-01")  // `?format=json` (latest) answers the newest table ≤ that day
 *   await nbp.close()
 */
import { Duration, Effect } from "effect"
import { makeNbpServer, type NbpServerOptions } from "../../nbp/Server.js"
import type { ExchangeRateRule } from "../../src/domain/RateRule.js"
import { dayOf, daysBetween, isDay } from "../../src/domain/WarsawDay.js"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface FixtureTable {
  readonly effectiveDate: string
  readonly no: string
  /** exactly as in the CSV (4 decimals) */
  readonly mid: string
}

const fixtureUrl = new URL("../fixtures/nbp/usd-table-a-2016-2025.csv", import.meta.url)

let fixtureCache: ReadonlyArray<FixtureTable> | undefined

/** Every USD table A of 2016–2025, oldest first. */
export const fixtureTables = (): ReadonlyArray<FixtureTable> => {
  if (fixtureCache === undefined) {
    const lines = readFileSync(fixtureUrl, "utf8").trim().split(/\r?\n/).slice(1)
    fixtureCache = lines.map((line) => {
      const [effectiveDate, no, mid] = line.split(",")
      return { effectiveDate, no, mid }
    })
  }
  return fixtureCache
}

/** The table number the rule gives for `day`, by a plain scan of the CSV rows (independent of the app's selection). */
export const expectedTable = (day: string, rule: ExchangeRateRule): string => {
  let found = ""
  for (const row of fixtureTables()) {
    if (rule === "same-day" ? row.effectiveDate <= day : row.effectiveDate < day) found = row.no
  }
  return found
}

export const messages = {
  notFound: "404 NotFound - Not Found - Brak danych",
  limit367: "400 BadRequest - Przekroczony limit 367 dni / Limit of 367 days has been exceeded",
  limit255: "400 BadRequest - Przekroczony limit 255 wyników / Limit of 255 results has been exceeded",
  invalidRange: "400 BadRequest - Błędny zakres dat / Invalid date range",
  badRequest: "400 BadRequest - Bad Request"
} as const

export interface NbpStandIn {
  /** NBP_API_URL for the stand-in, ending in /rates/a/usd/ */
  readonly url: string
  /** number of requests received (including those dropped while down) */
  readonly requests: () => number
  /** request paths received, oldest first */
  readonly requestLog: () => ReadonlyArray<string>
  readonly resetRequests: () => void
  /** true: every request's connection is destroyed, like an unreachable NBP */
  readonly setDown: (down: boolean) => void
  /** delay every answer, e.g. to make concurrent requests overlap */
  readonly setDelay: (millis: number) => void
  /** the stand-in's "today": nothing after it exists; latest is the newest table ≤ it */
  readonly setToday: (day: string) => void
  readonly close: () => Promise<void>
}

const ratesBody = (tables: ReadonlyArray<FixtureTable>) =>
  `{"table":"A","currency":"dolar amerykański","code":"USD","rates":[${
    tables.map((t) => `{"no":"${t.no}","effectiveDate":"${t.effectiveDate}","mid":${t.mid}}`).join(",")
  }]}`

export const startNbpStandIn = async (
  /** host: where to listen, 127.0.0.1 unless a container must reach it (its network's gateway) */
  options: { readonly today?: string; readonly host?: string } = {}
): Promise<NbpStandIn> => {
  const host = options.host ?? "127.0.0.1"
  const tables = fixtureTables()
  let today = options.today ?? dayOf(Date.now(), "UTC")
  let down = false
  let delay = 0
  const log: Array<string> = []

  const published = () => tables.filter((t) => t.effectiveDate <= today)

  const answer = (path: string): { status: number; body: string; json: boolean } => {
    const text = (status: number, body: string) => ({ status, body, json: false })
    const json = (rows: ReadonlyArray<FixtureTable>) =>
      rows.length === 0 ? text(404, messages.notFound) : { status: 200, body: ratesBody(rows), json: true }

    const prefix = "/api/exchangerates/rates/a/usd"
    if (!path.toLowerCase().startsWith(prefix)) return text(404, "404 NotFound - Not Found")
    const parts = path.slice(prefix.length).split("/").filter((p) => p.length > 0)

    if (parts.length === 0) return json(published().slice(-1))
    if (parts.length === 1 && parts[0] === "today") return json(published().filter((t) => t.effectiveDate === today))
    if (parts[0] === "last") {
      const n = Number(parts[1])
      if (parts.length !== 2 || !Number.isInteger(n) || n < 1) return text(400, messages.badRequest)
      if (n > 255) return text(400, messages.limit255)
      return json(published().slice(-n))
    }
    if (parts.length === 1) {
      if (!isDay(parts[0])) return text(400, messages.badRequest)
      return json(published().filter((t) => t.effectiveDate === parts[0]))
    }
    if (parts.length === 2) {
      const [start, end] = parts
      if (!isDay(start) || !isDay(end) || start > end) return text(400, messages.invalidRange)
      if (daysBetween(start, end) + 1 > 367) return text(400, messages.limit367)
      return json(published().filter((t) => t.effectiveDate >= start && t.effectiveDate <= end))
    }
    return text(400, messages.badRequest)
  }

  const server = Http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]
    log.push(path)
    if (down) {
      req.socket.destroy()
      return
    }
    const reply = () => {
      const { body, json, status } = req.method === "GET" ? answer(path) : { status: 405, body: "", json: false }
      res.writeHead(status, {
        "content-type": json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(body)
      })
      res.end(body)
    }
    if (delay > 0) setTimeout(reply, delay)
    else reply()
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://${host}:${port}/api/exchangerates/rates/a/usd/`,
    requests: () => log.length,
    requestLog: () => [...log],
    resetRequests: () => {
      log.length = 0
    },
    setDown: (value) => {
      down = value
      if (value) server.closeIdleConnections()
    },
    setDelay: (millis) => {
      delay = millis
    },
    setToday: (day) => {
      if (!isDay(day)) throw new Error(`setToday: not a day: ${day}`)
      today = day
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** A stand-in for the scope of an Effect test, closed when the scope ends. */
export const scopedNbpStandIn = (today?: string) =>
  Effect.acquireRelease(
    Effect.promise(() => startNbpStandIn(today === undefined ? {} : { today })),
    (nbp) => Effect.promise(() => nbp.close())
  )

/** The NBP rate service (nbp/) on a free loopback port in front of a stand-in, hourly refresh, 2 h TTL. */
export const startNbpService = (nbp: NbpStandIn, options: Partial<NbpServerOptions> = {}) =>
  makeNbpServer({
    port: 0,
    host: "127.0.0.1",
    apiUrl: nbp.url,
    fetchInterval: Duration.hours(1),
    cacheTtl: Duration.hours(2),
    adminToken: undefined,
    ...options
  })
