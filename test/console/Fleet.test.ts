/**
 * The fleet's rules, in-process over real HTTP stand-ins that answer like the app (the contract's
 * own MonthOverview): a client that never answers is "unreachable" after the 5 s time-out and its
 * row comes after the others' (it never holds them back); a refused token is "failing" with why;
 * answers are kept for a while but failures are not (a client that fails is asked again); no more
 * than 16 requests are ever in flight; an overview that is not the contract's shape is refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Schema, Stream } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { MonthOverview, OverviewReady, OverviewReconciliation, OverviewState } from "../../src/api/OverviewApi.js"
import { ConsoleConfig } from "../../src/console/ConsoleConfig.js"
import { Fleet, MAX_IN_FLIGHT, totalsOf } from "../../src/console/Fleet.js"
import { Registry } from "../../src/console/Registry.js"
import { tempDir } from "../support/tmp.js"

const MONTH = "2025-11"

const overview = (id: string, billedPln: string, openRouterPln: string, marginPln: string) =>
  Schema.encodeSync(MonthOverview)(new MonthOverview({
    month: MONTH, clientOrgId: id, billedPln, billedUsd: "1.00", openRouterPln, marginPln, marginPercent: null, requests: 1,
    state: new OverviewState({ status: "open", closable: false, refusal: null, needsAcceptance: false, closedAt: null, closedBy: null }),
    reconciliation: new OverviewReconciliation({ configured: false, daysOk: 0, daysMissing: 0, daysUnreconciled: 0, missing: [], unreconciled: [] }),
    lastBatchRun: null, ready: new OverviewReady({ ok: true, checks: {} }), pendingCosts: 0, quarantinedRows: 0
  }))

interface StandIn {
  readonly id: string
  readonly port: number
  readonly token: string
  asked: number
  readonly close: () => void
}

let inFlight = 0
let maxInFlight = 0

/** `answer`: what the stand-in does with a request (after `delayMs`); "hang" never answers. */
const standIn = (id: string, answer: "ok" | "hang" | "401" | "garbage", delayMs = 0) =>
  new Promise<StandIn>((resolve) => {
    const token = `${id}-admin-token-0123456789`
    const sockets = new Set<import("node:net").Socket>()
    const s: { asked: number } = { asked: 0 }
    const server = Http.createServer((req, res) => {
      s.asked++
      if (answer === "hang") return
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      setTimeout(() => {
        inFlight--
        if (answer === "401" || req.headers.authorization !== `Bearer ${token}`) {
          return res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "the bearer token is not a valid admin token" }))
        }
        const body = answer === "garbage" ? { ...overview(id, "1.00", "1.00", "0.00"), billedPln: 12 } : overview(id, "10.50", "8.07", "2.43")
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))
      }, delayMs)
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () =>
      resolve(Object.assign(s, {
        id,
        port: (server.address() as AddressInfo).port,
        token,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        }
      })))
  })

const fleetOver = (standIns: ReadonlyArray<StandIn>) => {
  const dir = tempDir()
  const file = Path.join(dir, "clients.json")
  Fs.writeFileSync(file, JSON.stringify({
    imageVersion: "1",
    clients: standIns.map((s) => ({ id: s.id, orgId: s.id, port: s.port, adminToken: s.token }))
  }))
  const config = Layer.succeed(ConsoleConfig, {
    port: 0, host: "127.0.0.1", clientsFiles: [file], dataDir: dir, adminTokens: [], clientsVia: "published"
  })
  return Fleet.Default.pipe(Layer.provide(Registry.Default), Layer.provide(config))
}

/** Stand-ins started for the test (closed after it), and a fleet over them. */
const withFleet = <A, E>(
  specs: ReadonlyArray<readonly [string, "ok" | "hang" | "401" | "garbage", number?]>,
  body: (fleet: Fleet, clients: ReadonlyArray<StandIn>) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const clients = yield* Effect.acquireRelease(
      Effect.promise(() => Promise.all(specs.map(([id, answer, delay]) => standIn(id, answer, delay)))),
      (cs) => Effect.sync(() => cs.forEach((c) => c.close()))
    )
    return yield* Effect.flatMap(Fleet, (fleet) => body(fleet, clients)).pipe(Effect.provide(fleetOver(clients)))
  }).pipe(Effect.scoped)

describe("the fleet", () => {
  it.live("shows a client that never answers as unreachable after its time-out, after the others; a refusal and garbage as failing", () =>
    withFleet([["hangs", "hang"], ["fast", "ok"], ["refuses", "401"], ["garbled", "garbage"]], (fleet) =>
      Effect.gen(function*() {
        const rows = Chunk.toReadonlyArray(yield* Stream.runCollect(fleet.rows(MONTH)))
        expect(rows.map((r) => r.id).at(-1)).toBe("hangs")
        expect(rows.find((r) => r.id === "hangs")).toMatchObject({ status: "unreachable", reason: "timeout", error: "no answer within 5s", overview: null })
        expect(rows.find((r) => r.id === "fast")).toMatchObject({ status: "ok", reason: null, error: null, overview: { billedPln: "10.50", marginPln: "2.43" } })
        expect(rows.find((r) => r.id === "refuses")).toMatchObject({ status: "failing", reason: "token", error: "the client refused the admin token in clients.json (401)" })
        expect(rows.find((r) => r.id === "garbled")).toMatchObject({ status: "failing", reason: "shape", error: "answered in a shape the contract does not know (another version?)" })
        // The totals are the sums of the rows that answered.
        expect(totalsOf(rows)).toMatchObject({ clients: 4, ok: 1, notOk: 3, billedPln: "10.50", openRouterPln: "8.07", marginPln: "2.43" })
        for (const r of rows) expect(JSON.stringify(r)).not.toContain("-admin-token-")
      })), 20_000)

  it.live("keeps answers, never failures; asks again when told to", () =>
    withFleet([["fast", "ok"], ["refuses", "401"]], (fleet, [fast, refuses]) =>
      Effect.gen(function*() {
        yield* fleet.all(MONTH)
        yield* fleet.all(MONTH)
        expect([fast.asked, refuses.asked]).toEqual([1, 2])
        yield* fleet.all(MONTH, true)
        expect([fast.asked, refuses.asked]).toEqual([2, 3])
        // Another month is another answer.
        yield* fleet.all("2025-10")
        expect(fast.asked).toBe(3)
      })))

  it.live("never has more than 16 requests in flight, over two views at once", () =>
    withFleet(Array.from({ length: 40 }, (_, i) => [`c${i}`, "ok", 30] as const), (fleet, clients) =>
      Effect.gen(function*() {
        maxInFlight = 0
        const [a, b] = yield* Effect.all([fleet.all(MONTH), fleet.all("2025-10")], { concurrency: "unbounded" })
        expect([...a, ...b].every((r) => r.status === "ok")).toBe(true)
        expect(clients.reduce((n, c) => n + c.asked, 0)).toBe(80)
        expect(maxInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT)
        expect(maxInFlight).toBeGreaterThan(MAX_IN_FLIGHT / 2)
      })))
})
