/**
 * `npm run bench:nbp` — a cached `GET /api/usd-pln-rate` of the NBP
 * service against a bare node:http server answering a JSON body of the same
 * size, side by side in one run, same load (loopback only).
 *
 * Each server runs in its own child process; autocannon drives them from this
 * one. The NBP service reads its tables from the local NBP stand-in.
 *
 * The machine may be shared, so the contenders are measured in interleaved
 * rounds and the ratio is taken per round (median reported).
 *
 * Options (env): BENCH_CONNECTIONS (default 32), BENCH_SECONDS per run (default 5),
 * BENCH_ROUNDS (default 3), BENCH_ROUTER=1 adds the same routes and caches
 * served by an Effect HttpRouter server (the design alternative, for the record),
 * BASELINE_DIST=<another build's dist/> adds that build's service as "before" (e.g. a
 * build of main before a change, with its node_modules beside it).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as Net from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { startNbpStandIn } from "../test/support/nbpStandIn.js"

interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}
const autocannon = createRequire(import.meta.url)("autocannon") as (options: {
  url: string
  connections: number
  duration: number
  pipelining?: number
}) => Promise<AutocannonResult>

const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const seconds = Math.min(Number(process.env.BENCH_SECONDS ?? 5), 30)
const rounds = Math.min(Number(process.env.BENCH_ROUNDS ?? 3), 10)
const withRouter = process.env.BENCH_ROUTER === "1"
const root = fileURLToPath(new URL("..", import.meta.url))
// servers run as `node --import tsx …` so that the child's pid is the server's (CPU accounting)
const nodeWithTsx = [process.execPath, "--import", "tsx"] as const

/** CPU time (user + system) a process has used so far, in microseconds (Linux /proc). */
const cpuMicros = (pid: number | undefined): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
  } catch {
    return undefined
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const waitFor = async (url: string, child: ChildProcess) => {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`)
    try {
      const response = await fetch(url)
      if (response.ok) return await response.text()
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not come up`)
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref()
  })

/** The bare baseline: node:http answering a fixed JSON body, nothing else. */
const bareServerSource = (body: string) => `
const http = require("node:http")
const body = ${JSON.stringify(body)}
http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "cache-control": "no-store" })
  res.end(body)
}).listen(Number(process.env.PORT), "127.0.0.1")
`

/**
 * The alternative transport: the service's own routes and caches behind an
 * Effect HttpRouter server (@effect/platform-node), run as a child process.
 */
const routerVariantSource = `
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Clock, Duration, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { ServiceMetrics } from "./nbp/Metrics.ts"
import { makeRateService } from "./nbp/RateService.ts"
import { makeRoutes } from "./nbp/Routes.ts"

const app = Effect.gen(function*() {
  const metrics = new ServiceMetrics()
  const rates = yield* makeRateService({ apiUrl: process.env.NBP_API_URL, cacheTtl: Duration.hours(2), metrics })
    .pipe(Effect.provide(FetchHttpClient.layer))
  yield* rates.refreshLatest
  const handle = makeRoutes({ rates, metrics, adminToken: undefined, startedAt: yield* Clock.currentTimeMillis })
  const route = Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const q = req.url.indexOf("?")
    const reply = yield* handle({
      method: req.method,
      path: q === -1 ? req.url : req.url.slice(0, q),
      query: new URLSearchParams(q === -1 ? "" : req.url.slice(q + 1)),
      authorization: req.headers.authorization
    }).reply
    return HttpServerResponse.text(reply.body, { status: reply.status, contentType: reply.contentType })
  })
  return HttpRouter.empty.pipe(HttpRouter.get("/api/usd-pln-rate", route), HttpRouter.get("/health", route))
})

Layer.unwrapEffect(Effect.map(app, (router) => HttpServer.serve(router)))
  .pipe(Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT), host: "127.0.0.1" })), Layer.launch, NodeRuntime.runMain)
`

interface Run extends AutocannonResult {
  /** server CPU time per answered request, µs (undefined where /proc is unavailable) */
  readonly cpuPerRequest: number | undefined
}

const measure = async (url: string, pid: number | undefined): Promise<Run> => {
  // warm-up (JIT, keep-alive sockets), then the measured run
  await autocannon({ url, connections, duration: 1 })
  const cpuBefore = cpuMicros(pid)
  const result = await autocannon({ url, connections, duration: seconds })
  const cpuAfter = cpuMicros(pid)
  const cpuPerRequest = cpuBefore === undefined || cpuAfter === undefined
    ? undefined
    : (cpuAfter - cpuBefore) / result.requests.total
  return { ...result, cpuPerRequest }
}

const line = (name: string, result: Run) =>
  `${name.padEnd(30)} ${result.requests.average.toFixed(0).padStart(8)} req/s  p50 ${
    String(result.latency.p50).padStart(3)
  } ms  p99 ${String(result.latency.p99).padStart(3)} ms  server CPU ${
    result.cpuPerRequest === undefined ? "?" : result.cpuPerRequest.toFixed(1)
  } µs/req  non-2xx ${result.non2xx}  errors ${result.errors}`

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const main = async () => {
  const nbp = await startNbpStandIn({ today: "2025-12-01" })
  const children: Array<ChildProcess> = []
  try {
    const servicePort = await freePort()
    const service = spawn(process.execPath, ["dist/nbp.js"], { // the production build (`npm run nbp`)
      cwd: root,
      env: { ...process.env, PORT: String(servicePort), HOST: "127.0.0.1", NBP_API_URL: nbp.url },
      stdio: ["ignore", "ignore", "inherit"]
    })
    children.push(service)
    const serviceUrl = `http://127.0.0.1:${servicePort}/api/usd-pln-rate`
    await waitFor(`http://127.0.0.1:${servicePort}/health`, service)
    const sample = await waitFor(serviceUrl, service)

    const barePort = await freePort()
    const bare = spawn(process.execPath, ["-e", bareServerSource(sample)], {
      env: { ...process.env, PORT: String(barePort) },
      stdio: ["ignore", "ignore", "inherit"]
    })
    children.push(bare)
    const bareUrl = `http://127.0.0.1:${barePort}/`
    await waitFor(bareUrl, bare)

    const contenders: Array<{ readonly name: string; readonly url: string; readonly pid: number | undefined }> = [
      { name: "bare node:http", url: bareUrl, pid: bare.pid },
      { name: "NBP service (cached latest)", url: serviceUrl, pid: service.pid }
    ]
    if (process.env.BASELINE_DIST !== undefined) {
      const beforePort = await freePort()
      const before = spawn(process.execPath, [path.join(path.resolve(process.env.BASELINE_DIST), "nbp.js")], {
        env: { ...process.env, PORT: String(beforePort), HOST: "127.0.0.1", NBP_API_URL: nbp.url },
        stdio: ["ignore", "ignore", "inherit"]
      })
      children.push(before)
      const beforeUrl = `http://127.0.0.1:${beforePort}/api/usd-pln-rate`
      await waitFor(`http://127.0.0.1:${beforePort}/health`, before)
      await waitFor(beforeUrl, before)
      contenders.push({ name: "NBP service before", url: beforeUrl, pid: before.pid })
    }
    if (withRouter) {
      const routerPort = await freePort()
      const router = spawn(nodeWithTsx[0], [...nodeWithTsx.slice(1), "--input-type=module", "--eval", routerVariantSource], {
        cwd: root,
        env: { ...process.env, PORT: String(routerPort), NBP_API_URL: nbp.url },
        stdio: ["ignore", "ignore", "inherit"]
      })
      children.push(router)
      const routerUrl = `http://127.0.0.1:${routerPort}/api/usd-pln-rate`
      await waitFor(routerUrl, router)
      contenders.push({ name: "same routes on HttpRouter", url: routerUrl, pid: router.pid })
    }

    console.log(
      `NBP service, cached GET /api/usd-pln-rate vs bare node:http (${sample.length}-byte JSON body), ` +
        `${connections} connections, ${seconds} s per run, ${rounds} interleaved rounds`
    )
    const results = new Map<string, Array<Run>>(contenders.map((c) => [c.name, []]))
    for (let round = 1; round <= rounds; round++) {
      for (const contender of contenders) {
        const result = await measure(contender.url, contender.pid)
        results.get(contender.name)!.push(result)
        console.log(`round ${round}  ${line(contender.name, result)}`)
      }
    }
    const bareRuns = results.get("bare node:http")!
    console.log("")
    for (const contender of contenders) {
      const runs = results.get(contender.name)!
      const ratios = runs.map((r, i) => r.requests.average / bareRuns[i].requests.average)
      console.log(
        `${contender.name.padEnd(30)} median ${median(runs.map((r) => r.requests.average)).toFixed(0).padStart(6)} req/s  ` +
          `p99 ${median(runs.map((r) => r.latency.p99))} ms  CPU ${
            runs[0].cpuPerRequest === undefined ? "?" : median(runs.map((r) => r.cpuPerRequest ?? 0)).toFixed(1)
          } µs/req  ratio to bare: median ${(median(ratios) * 100).toFixed(1)} % ` +
          `(rounds: ${ratios.map((x) => `${(x * 100).toFixed(0)} %`).join(", ")})`
      )
    }
    const serviceRuns = results.get("NBP service (cached latest)")!
    const ratio = median(serviceRuns.map((r, i) => r.requests.average / bareRuns[i].requests.average))
    const bareCpu = median(bareRuns.map((r) => r.cpuPerRequest ?? Number.NaN))
    const serviceCpu = median(serviceRuns.map((r) => r.cpuPerRequest ?? Number.NaN))
    if (Number.isFinite(bareCpu) && Number.isFinite(serviceCpu)) {
      // less sensitive to other load on the machine than req/s: the throughput one core would give
      console.log(
        `CPU per request: bare ${bareCpu.toFixed(1)} µs, service ${serviceCpu.toFixed(1)} µs → ` +
          `single-core throughput ratio ${(bareCpu / serviceCpu * 100).toFixed(1)} %`
      )
    }
    console.log(`NBP stand-in requests during the whole run: ${nbp.requests()} (the cache held)`)
    if (serviceRuns.some((r) => r.non2xx > 0 || r.errors > 0)) {
      console.log("FAIL: the service answered errors under load")
      process.exitCode = 1
    } else if (ratio < 0.6) {
      console.log(`FAIL: ${(ratio * 100).toFixed(1)} % is below the 60 % target`)
      process.exitCode = 1
    } else {
      console.log(`OK: ${(ratio * 100).toFixed(1)} % of bare node:http (target ≥ 60 %)`)
    }
  } finally {
    await Promise.all(children.map(stop))
    await nbp.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
