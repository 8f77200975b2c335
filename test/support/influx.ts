/**
 * A real InfluxDB 1.x (`influxd` from Debian's `influxdb` package) for integration tests: its own
 * temp dir and free loopback ports, no auth, no reporting. It can be stopped and started again on
 * the same port and data (fault tests). Also a tiny HTTP recorder standing in for InfluxDB 2.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Path from "node:path"
import { parseJsonExact } from "../../src/store/InfluxUsageStore.js"
import { tempDir } from "./app.js"
import { freePort } from "./process.js"

const findInfluxd = (): string | undefined => {
  try {
    return execFileSync("sh", ["-c", "command -v influxd"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

export const influxdPath = findInfluxd()
export const hasInfluxd = influxdPath !== undefined

/** Call at the top of a test file: says loudly why its InfluxDB tests are skipped. */
export const warnIfNoInfluxd = (file: string) => {
  if (!hasInfluxd) {
    console.warn(
      `\n!!! ${file}: influxd not found — InfluxDB integration tests SKIPPED.\n` +
        `!!! Install it with: apt-get install -y influxdb\n`
    )
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Influxd {
  readonly url: string
  readonly dir: string
  /** The running influxd's process id (undefined while stopped). */
  readonly pid: () => number | undefined
  /** InfluxQL on /query; the JSON answer with every integer as a decimal string (exact). */
  readonly query: (q: string, db?: string) => Promise<any>
  readonly createDatabase: (db: string) => Promise<void>
  /** SIGTERM, and wait for the process to exit. */
  readonly stop: () => Promise<void>
  /** Starts again on the same port and data directory. */
  readonly start: () => Promise<void>
  /** Stops it for good and deletes its directory. */
  readonly remove: () => Promise<void>
}

const config = (dir: string, httpPort: number, rpcPort: number) => `
reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  max-body-size = 0
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
[retention]
  enabled = false
`

export const startInfluxd = async (): Promise<Influxd> => {
  if (influxdPath === undefined) throw new Error("influxd not installed (apt-get install -y influxdb)")
  const dir = tempDir("mai-usage-influxd-")
  const httpPort = await freePort()
  const rpcPort = await freePort()
  const configFile = Path.join(dir, "influxd.conf")
  Fs.writeFileSync(configFile, config(dir, httpPort, rpcPort))
  const url = `http://127.0.0.1:${httpPort}`
  let child: ChildProcess | undefined
  const killOnExit = () => child?.kill("SIGKILL")
  process.once("exit", killOnExit)

  const start = async () => {
    const log = Fs.openSync(Path.join(dir, "influxd.log"), "a")
    child = spawn(influxdPath, ["run", "-config", configFile], { stdio: ["ignore", log, log] })
    Fs.closeSync(log)
    const started = Date.now()
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`influxd exited (${child.exitCode}): ${Fs.readFileSync(Path.join(dir, "influxd.log"), "utf8").slice(-2000)}`)
      }
      try {
        const res = await fetch(`${url}/ping`)
        if (res.status === 204) return
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 30_000) throw new Error("influxd did not answer /ping within 30 s")
      await sleep(50)
    }
  }

  const stop = async () => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()))
    c.kill("SIGTERM")
    const timer = setTimeout(() => c.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(timer)
    child = undefined
  }

  const query = async (q: string, db?: string) => {
    const params = new URLSearchParams({ q, epoch: "ns" })
    if (db !== undefined) params.set("db", db)
    const res = await fetch(`${url}/query`, { method: "POST", body: params })
    const text = await res.text()
    if (!res.ok) throw new Error(`influxd /query ${res.status}: ${text}`)
    return parseJsonExact(text)
  }

  await start()
  return {
    url,
    dir,
    pid: () => child?.pid,
    query,
    createDatabase: async (db) => void (await query(`CREATE DATABASE "${db}"`)),
    stop: async () => {
      await stop()
    },
    start,
    remove: async () => {
      await stop()
      process.removeListener("exit", killOnExit)
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The rows of the first series of an answer, as objects keyed by column. */
export const rowsOf = (answer: any): Array<Record<string, unknown>> =>
  (answer.results?.[0]?.series ?? []).flatMap((s: any) =>
    s.values.map((v: Array<unknown>) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c: string, i: number) => [c, v[i]])) }))
  )

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A local HTTP server that records every request and answers 204 (or what `respond` says). */
export const startRecorder = async (
  respond: (req: RecordedRequest) => { status: number; body?: string } = () => ({ status: 204 })
) => {
  const requests: Array<RecordedRequest> = []
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }
      requests.push(recorded)
      const answer = respond(recorded)
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body ?? "")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as Net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export const eventually = async (check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = "condition") => {
  const started = Date.now()
  for (;;) {
    if (await check()) return
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}
