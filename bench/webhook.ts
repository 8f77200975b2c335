/**
 * Webhook throughput and latency, side by side with a bare node:http server that reads
 * the body and answers 200: same payloads, same load tool (autocannon), same connections, same run.
 * Then checks that every event the replies said was accepted is in the ledger (a duplicate is
 * answered 2xx too, so 2xx counts are not the measure), and samples the app's RSS during the load.
 * The app is the production build (`node dist/bin.js serve`, as `npm start` runs it: no TypeScript
 * loader), once per LEDGER_SYNC setting (full, then normal); the RSS is read from the server
 * process's own /proc/PID/status. Both load tools: autocannon (also paced at a steady
 * 1,000 req/s with `overallRate`, printed) and wrk (Debian `wrk`, a Lua script gives each request a
 * fresh id; also paced at ~1,000 req/s with Poisson arrivals: the steady-rate targets are judged on it).
 * Start-up: process start to the first /health 200. Idle RSS: 2 s after start and 10 s later
 * (judged), and 40 s after the load (past the ledger writer thread's idle end; `IDLE_AFTER=0` skips).
 * Idle CPU: the server's CPU and its event loop's wake-ups over the 10 s after the idle reading.
 * A client's own rates (`CLIENT_RATES`, 10 and 100 req/s): CPU and wake-ups (every thread's
 * voluntary context switches) per delivery, paced by wrk, for bare, before and after.
 *
 * `npm run bench:webhook:image-node` (bench/on-node.sh) runs it with the servers on the images' Node
 * (24) instead of the machine's.
 *
 * With `BASELINE_DIST=<another build's dist/>` (e.g. a build of main before a change, with its own
 * node_modules beside it) that build runs too, in the same run, as "before" beside this tree's
 * "after": figures print as bare / before / after. `ROUNDS=N` repeats the measurements, before
 * and after taking turns to go first.
 *
 *   npm run bench:webhook   (DURATION=10 CONNECTIONS=32 SYNCS=full,normal BODIES=privacy-mode,full TOOLS=autocannon,wrk
 *                            BASELINE_DIST=/path/to/dist BASELINE_FLAGS="…" ROUNDS=1 APP_ENTRY=dist/bin.js IDLE_AFTER=1 APP_FLAGS=
 *                            CLIENT_RATES=10,100 CLIENT_SECONDS=20 CLIENT_SETTLE_SECONDS=5)
 */
import autocannon from "autocannon"
import Database from "better-sqlite3"
import { spawn, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { encodeRequest } from "../src/ingest/OtlpCodec.js"
import { allWakeUps, cpuMicros, full, GEN_ID, idleReading, idleText, privacy, wakeUpsSince } from "./deliveries.js"

const root = Path.resolve(new URL("..", import.meta.url).pathname)
const duration = Number(process.env.DURATION ?? 10)
const connections = Number(process.env.CONNECTIONS ?? 32)
const secret = "bench-secret-0123456789"
const adminToken = "bench-admin-token-0123456789"


let seq = 0
const withFreshId = (template: string) => {
  const id = `gen-bench-${process.pid}-${++seq}`
  return template.replace(GEN_ID, id)
}

/**
 * The privacy-mode delivery as OTLP binary protobuf (what Collectors and SDK exporters send). A fresh
 * id of the template id's length is written over each of its occurrences, so no encoding per request.
 */
const protobufTemplate = (() => {
  const d = JSON.parse(privacy)
  for (const rs of d.resourceSpans) {
    for (const span of rs.scopeSpans.flatMap((ss: any) => ss.spans)) {
      for (const k of ["traceId", "spanId", "parentSpanId"]) if (span[k]) span[k] = Buffer.from(span[k], "hex")
    }
  }
  const body = Buffer.from(encodeRequest(d))
  const id = Buffer.from(privacy.match(GEN_ID)![0])
  const at: Array<number> = []
  for (let i = body.indexOf(id); i !== -1; i = body.indexOf(id, i + 1)) at.push(i)
  return { body, idLength: id.length, at }
})()
const freshProtobuf = () => {
  const body = Buffer.from(protobufTemplate.body)
  const id = `gen-bench-${process.pid}-${++seq}-`.padEnd(protobufTemplate.idLength, "x")
  for (const i of protobufTemplate.at) body.write(id, i, "latin1")
  return body
}

const start = (cmd: string, args: Array<string>, env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; port: number; warnings: () => ReadonlyArray<string> }>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    /** The server's warnings and errors (a refused delivery says why): kept, the rest of its log dropped. */
    const warnings: Array<string> = []
    let partial = ""
    child.stdout!.on("data", (d) => {
      if (out.length < 64 * 1024) out += d
      const lines = (partial + d).split("\n")
      partial = lines.pop()!
      for (const line of lines) if (/"level":"(WARN|ERROR|FATAL)"|level=(WARN|ERROR|FATAL)/i.test(line)) warnings.push(line)
      const m = /listening (\d+)/.exec(out) ?? /"listening",\{"port":(\d+)/.exec(out) ??
        /"message":"listening","port":(\d+)/.exec(out)
      if (m) resolve({ child, port: Number(m[1]), warnings: () => warnings })
    })
    child.once("exit", (c) => reject(new Error(`${cmd} exited ${c}: ${out}`)))
  })

const rssSampler = (pid: number) => {
  let max = 0
  const t = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))
      if (m) max = Math.max(max, Number(m[1]) / 1024)
    } catch {
      // process gone
    }
  }, 200)
  return () => {
    clearInterval(t)
    return max
  }
}

type Body = { readonly type: "json"; readonly template: string } | { readonly type: "protobuf" }
const bodyOf = (b: Body) => (b.type === "json" ? withFreshId(b.template) : freshProtobuf())

/** What the app's replies said: JSON replies carry counts; a binary OTLP reply carries none. */
interface Acks {
  accepted: number
  duplicates: number
}
const countReply = (acks: Acks, status: number, body: string) => {
  if (status < 200 || status >= 300) return
  if (body.startsWith("{")) {
    const r = JSON.parse(body) as { accepted?: number; duplicates?: number }
    acks.accepted += r.accepted ?? 0
    acks.duplicates += r.duplicates ?? 0
  } else {
    // protobuf: a 2xx without counts; its ids are fresh by construction (freshProtobuf)
    acks.accepted += 1
  }
}

const load = (port: number, path: string, body: Body, rate?: number, acks?: Acks) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        connections,
        duration,
        ...(rate === undefined ? {} : { overallRate: rate }),
        method: "POST",
        headers: {
          "content-type": body.type === "json" ? "application/json" : "application/x-protobuf",
          authorization: `Bearer ${secret}`
        },
        requests: [{
          setupRequest: (req: any) => ({ ...req, body: bodyOf(body) }),
          ...(acks === undefined ? {} : { onResponse: (status: number, text: string) => countReply(acks, status, text) })
        }]
      },
      (err, res) => (err ? reject(err) : resolve(res))
    )
  })

const row = (name: string, r: autocannon.Result, rss?: number) =>
  `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   2xx ${String(r["2xx"]).padStart(7)}   non-2xx ${r.non2xx}${rss === undefined ? "" : `   max RSS ${rss.toFixed(0)} MB`}`

const cpuText = (micros: number, requests: number) => `   CPU ${(micros / Math.max(1, requests)).toFixed(0)} µs/req`

/** How long after the 2 s reading idle RSS is read again (and judged). */
const IDLE_SETTLE_MS = 10_000
/** How long an idle server's CPU and wake-ups are counted, after the idle RSS reading. */
const IDLE_CPU_MS = 10_000
/**
 * A client's own rates (deliveries a second, `CLIENT_RATES`; empty skips them): each paced for
 * `CLIENT_SECONDS` after a 2 s saturating burst and `CLIENT_SETTLE_SECONDS` at the same rate that
 * are not counted (a writer thread ended for being idle starts again cold; after a saturating load
 * V8 re-optimizes for lone requests), for bare, before and after in turn.
 */
const CLIENT_RATES = (process.env.CLIENT_RATES ?? "10,100").split(",").filter((r) => r.trim() !== "").map(Number)
const CLIENT_SECONDS = Number(process.env.CLIENT_SECONDS ?? 20)
const CLIENT_SETTLE_SECONDS = Number(process.env.CLIENT_SETTLE_SECONDS ?? 5)
/** How long after the load idle RSS is read (past the writer thread's 30 s idle end). */
const IDLE_AFTER_MS = 40_000
const rssNow = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024

let wrkRuns = 0

/**
 * wrk with a Lua script: each request gets a fresh generation id (run, thread number, counter).
 * `tid` is the global that `setup` sets in each thread (a `local tid` would shadow it, and both
 * threads would send the same ids). `response` sums the replies' `accepted`/`duplicates` counts
 * in each thread's globals, which `done` adds up. With `rate`, the load is paced instead of
 * saturating: each connection waits a random (exponential) time after each reply, so requests
 * arrive as independent events at ~`rate` per second overall, and wrk times each one to the µs.
 */
const wrk = async (port: number, path: string, template: string, rate?: number, seconds = duration) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-wrk-"))
  try {
    const parts = template.split(GEN_ID)
    const lua = `
local parts = {${parts.map((p) => `[==[${p}]==]`).join(",")}}
local prefix = "gen-bench-wrk-${process.pid}-${++wrkRuns}-"
local counter = 0
local threads = {}
-- globals, so that \`done\` can read each thread's with thread:get
accepted = 0
duplicates = 0
-- the replies that were not 2xx, counted by status
refused = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer ${secret}"
${rate === undefined ? "" : `-- paced: each connection waits an exponentially distributed time (mean ${(connections / rate * 1000).toFixed(1)} ms)
-- after each reply, so the ${connections} connections together send ~${rate} req/s as independent (Poisson) arrivals
local seeded = false
function delay()
  if not seeded then
    math.randomseed(tid * 7919 + os.time())
    seeded = true
  end
  return -${(connections / rate * 1000).toFixed(3)} * math.log(1 - math.random())
end`}
function request()
  counter = counter + 1
  local body = table.concat(parts, prefix .. tostring(tid) .. "-" .. tostring(counter))
  return wrk.format(nil, "${path}", nil, body)
end
function response(status, headers, body)
  if status >= 200 and status < 300 then
    accepted = accepted + (tonumber(string.match(body, '"accepted":(%d+)')) or 0)
    duplicates = duplicates + (tonumber(string.match(body, '"duplicates":(%d+)')) or 0)
  else
    refused[status] = (refused[status] or 0) + 1
  end
end
function done(summary, latency, requests)
  local a, d, r = 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    d = d + t:get("duplicates")
    for code, n in pairs(t:get("refused")) do r = r .. code .. ":" .. n .. "," end
  end
  io.write(string.format("accepted %d duplicates %d\\n", a, d))
  io.write(string.format("refused [%s]\\n", r))
end`
    Fs.writeFileSync(Path.join(dir, "post.lua"), lua)
    const { stdout: out } = await promisify(execFile)("wrk", ["-t2", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", Path.join(dir, "post.lua"), `http://127.0.0.1:${port}${path}`], { encoding: "utf8" })
    const ms = (label: string) => {
      const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
      if (!m) return NaN
      return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1)
    }
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
    const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
    const counts = /accepted (\d+) duplicates (\d+)/.exec(out)
    // the non-2xx replies by status ("503 × 2"), as the Lua script counted them in each thread
    const statuses = new Map<string, number>()
    for (const entry of (/refused \[([\d:,]*)\]/.exec(out)?.[1] ?? "").split(",").filter(Boolean)) {
      const [code, n] = entry.split(":")
      statuses.set(code, (statuses.get(code) ?? 0) + Number(n))
    }
    return {
      rps,
      p50: ms("50"),
      p99: ms("99"),
      ok: total - non2xx,
      non2xx,
      accepted: Number(counts?.[1] ?? 0),
      duplicates: Number(counts?.[2] ?? 0),
      refused: [...statuses].map(([code, n]) => `${code} × ${n}`).join(", "),
      /** wrk's "Socket errors" line, when it printed one */
      socketErrors: /Socket errors: ([^\n]+)/.exec(out)?.[1] ?? ""
    }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** wrk's non-2xx replies, with their statuses when there were any: `non-2xx 2 (408 × 2)`. */
const non2xxText = (r: { readonly non2xx: number; readonly refused: string }) =>
  `non-2xx ${r.non2xx}${r.refused === "" ? "" : ` (${r.refused})`}`

/** The start flags of the bin (`bin/mai-usage.js`: `npm start` and the images use the same), read from it. */
const START_FLAGS: ReadonlyArray<string> = JSON.parse(
  /^const FLAGS = (\[.*\])$/m.exec(Fs.readFileSync(Path.join(root, "bin/mai-usage.js"), "utf8"))![1]
)
const flagList = (text: string | undefined) => (text ?? "").split(" ").filter((f) => f !== "")

const startApp = async (entry: string, sync: string, startFlags: ReadonlyArray<string>) => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-"))
  const t0 = performance.now()
  // as `npm start` runs it (package.json): the same flags and malloc settings, no npm wrapper
  // APP_FLAGS: more V8 flags for both builds, to try one (`APP_FLAGS="--heap-growing-percent=20"`)
  const extra = flagList(process.env.APP_FLAGS)
  const app = await start(process.execPath, [...startFlags, ...extra, entry, "serve"], {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    OPENROUTER_WEBHOOK_SECRET: secret,
    ADMIN_TOKEN: adminToken,
    DAILY_BATCH_ENABLED: "false",
    LEDGER_SYNC: sync,
    MALLOC_ARENA_MAX: "2",
    MALLOC_TRIM_THRESHOLD_: "131072"
  })
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${app.port}/health`).then((r) => r.ok, () => false)
    if (ok) break
    await new Promise((r) => setTimeout(r, 5))
  }
  return { ...app, dataDir, startMs: performance.now() - t0 }
}

interface Build {
  /** "after" (this tree's dist/) or "before" (BASELINE_DIST), or "mai-usage" alone */
  readonly name: string
  readonly entry: string
  /** node's flags before the entry */
  readonly flags: ReadonlyArray<string>
}

// BASELINE_FLAGS: the baseline build's start flags, when they were other than this tree's
// (e.g. "--max-semi-space-size=2 --max-old-space-size=128" for a build from before --v8-pool-size=1)
const builds: ReadonlyArray<Build> = process.env.BASELINE_DIST === undefined
  ? [{ name: "mai-usage", entry: process.env.APP_ENTRY ?? Path.join(root, "dist/bin.js"), flags: START_FLAGS }]
  : [
    {
      name: "before",
      entry: Path.join(Path.resolve(process.env.BASELINE_DIST), "bin.js"),
      flags: process.env.BASELINE_FLAGS === undefined ? START_FLAGS : flagList(process.env.BASELINE_FLAGS)
    },
    { name: "after", entry: process.env.APP_ENTRY ?? Path.join(root, "dist/bin.js"), flags: START_FLAGS }
  ]

/**
 * The disk's floor: what one durable commit costs at least. 300 pairs of a 4 KiB write and an fsync
 * in a folder beside the ledgers' (the same file system), each timed; p50 and p99 in ms.
 */
const fsyncFloor = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-fsync-"))
  const fd = Fs.openSync(Path.join(dir, "probe"), "w", 0o600)
  const block = Buffer.alloc(4096, 1)
  const ms: Array<number> = []
  try {
    for (let i = 0; i < 300; i++) {
      const t = performance.now()
      Fs.writeSync(fd, block)
      Fs.fsyncSync(fd)
      ms.push(performance.now() - t)
    }
  } finally {
    Fs.closeSync(fd)
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  ms.sort((a, b) => a - b)
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]
  return { p50: at(0.5), p99: at(0.99), n: ms.length }
}
type Floor = ReturnType<typeof fsyncFloor>
const floorText = (when: string, f: Floor) =>
  `disk floor ${when} (4 KiB write + fsync beside the ledger, ${f.n} pairs): p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`

/**
 * Asks `url` every 20 ms (each request timed alone, one at a time) until stopped: how long a
 * light request waits while the server is saturated. p50/p99 in ms.
 */
const probe = (url: string) => {
  const ms: Array<number> = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now()
      await fetch(url).then((r) => r.arrayBuffer(), () => undefined)
      ms.push(performance.now() - t)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  return async () => {
    stopped = true
    await loop
    ms.sort((a, b) => a - b)
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN
    return { p50: at(0.5), p99: at(0.99), n: ms.length }
  }
}

/** prom-client's event-loop delay percentiles (ms) from the app's /metrics: since the previous read. */
const eventLoopLag = async (port: number) => {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } }).then((r) => r.text())
  const read = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)`, "m").exec(text)?.[1] ?? NaN) * 1000
  return {
    p50: read("nodejs_eventloop_lag_p50_seconds"),
    p90: read("nodejs_eventloop_lag_p90_seconds"),
    p99: read("nodejs_eventloop_lag_p99_seconds"),
    max: read("nodejs_eventloop_lag_max_seconds")
  }
}
const lagText = (l: Awaited<ReturnType<typeof eventLoopLag>>) =>
  `event-loop delay p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`

/** Every webhook and footprint target (docs/benchmarks.md), judged at the end with its figures. */
const verdicts: Array<string> = []
const judge = (what: string, met: boolean, figures: string) => {
  const line = `${met ? "met    " : "NOT MET"}  ${what}: ${figures}`
  verdicts.push(line)
  return line
}

const main = async () => {
  const bare = await start(process.execPath, [Path.join(root, "bench/bare-server.mjs")], { PORT: "0" })
  const privacyJson: Body = { type: "json", template: privacy }
  const fullJson: Body = { type: "json", template: full }
  const variants: Array<[string, Body]> = [
    [`privacy-mode JSON (${(privacy.length / 1024).toFixed(1)} KB)`, privacyJson],
    [`privacy-mode protobuf (${(protobufTemplate.body.length / 1024).toFixed(1)} KB)`, { type: "protobuf" }],
    [`full with prompts JSON (${(full.length / 1024).toFixed(0)} KB)`, fullJson]
  ]
  const only = process.env.BODIES?.split(",")
  /** Whether a body's label is among those asked for (`BODIES`: label prefixes; all by default). */
  const wanted = (label: string) => only === undefined || only.some((o) => label.startsWith(o))
  const tools = (process.env.TOOLS ?? "autocannon,wrk").split(",")
  const rounds = Number(process.env.ROUNDS ?? 1)
  // each line as soon as it is measured (a long run shows its progress)
  const results = { push: (line: string) => console.log(line) }
  results.push(`load average at start ${Os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  const floorBefore = fsyncFloor()
  results.push(floorText("before the load", floorBefore))
  let allStored = true
  /** The worse of the floors measured before and after the load (what the targets stand on). */
  let floor = floorBefore
  const ms = (n: number) => `${n.toFixed(2)} ms`
  for (const sync of (process.env.SYNCS ?? "full,normal").split(",")) {
    // the targets stand with LEDGER_SYNC=full; the other setting is printed for comparison
    const judged = sync === "full"
    const apps: Array<Build & Awaited<ReturnType<typeof startApp>> & { acks: Acks; peak: number }> = []
    for (const build of builds) {
      const app = await startApp(build.entry, sync, build.flags)
      apps.push({ ...build, ...app, acks: { accepted: 0, duplicates: 0 }, peak: 0 })
    }
    // Idle: 2 s after start, and again 10 s later (what a container with no traffic holds once
    // V8 has collected the garbage of starting); the second is judged.
    await new Promise((r) => setTimeout(r, 2000))
    const early = new Map(apps.map((app) => [app, rssNow(app.child.pid!)]))
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS))
    const settled = new Map(apps.map((app) => [app, rssNow(app.child.pid!)]))
    // what an idle server costs while nothing arrives, once the start's own collections are over
    // (V8's memory reducer runs ~9 s after start): its CPU and how often its event loop wakes
    const idleFrom = new Map(apps.map((app) => [app, idleReading(app.child.pid!)]))
    await new Promise((r) => setTimeout(r, IDLE_CPU_MS))
    for (const app of apps) {
      const idle = settled.get(app)!
      results.push(`== LEDGER_SYNC=${sync}, ${app.name} (${app.entry}; ${app.flags.join(" ")}): start to first /health 200 ${app.startMs.toFixed(0)} ms; server RSS idle ${early.get(app)!.toFixed(0)} MB 2 s after start, ${idle.toFixed(0)} MB ${IDLE_SETTLE_MS / 1000} s later`)
      results.push(`   idle, the ${IDLE_CPU_MS / 1000} s after that: ${idleText(app.child.pid!, idleFrom.get(app)!)}`)
      if (judged && app.name !== "before") {
        results.push(judge(`${app.name}: /health within 1 s of start`, app.startMs < 1000, `${app.startMs.toFixed(0)} ms`))
        results.push(judge(`${app.name}: idle RSS < 80 MB`, idle < 80, `${idle.toFixed(0)} MB (${early.get(app)!.toFixed(0)} MB 2 s after start)`))
      }
    }
    // warm-up, its replies counted too (their events are in the ledger)
    await Promise.all([
      load(bare.port, "/", privacyJson),
      ...apps.map((app) => load(app.port, "/api/v1/webhooks/openrouter", privacyJson, undefined, app.acks))
    ])
    for (const app of apps) await eventLoopLag(app.port) // resets prom-client's histogram
    for (let round = 1; round <= rounds; round++) {
      // before and after take turns to go first, so neither always meets a warmer machine
      const ordered = round % 2 === 1 ? apps : [...apps].reverse()
      for (const [label, body] of variants) {
        if (!wanted(label)) continue
        results.push(`-- ${label}, ${connections} connections, ${duration} s each${rounds > 1 ? `, round ${round}/${rounds}` : ""}`)
        if (tools.includes("autocannon")) {
          const b = await load(bare.port, "/", body)
          results.push(row("autocannon bare node:http", b))
          const measured = []
          for (const app of ordered) {
            const stopRss = rssSampler(app.child.pid!)
            const cpu0 = cpuMicros(app.child.pid!)
            const a = await load(app.port, "/api/v1/webhooks/openrouter", body, undefined, app.acks)
            const cpu = cpuMicros(app.child.pid!) - cpu0
            const rss = stopRss()
            app.peak = Math.max(app.peak, rss)
            measured.push({ app, a, rss, cpu })
          }
          for (const { a, app, cpu, rss } of measured.sort((x, y) => apps.indexOf(x.app) - apps.indexOf(y.app))) {
            const ratio = a.requests.average / b.requests.average
            results.push(row(`autocannon ${app.name} webhook`, a, rss) + cpuText(cpu, a.requests.total))
            results.push(`autocannon ratio ${app.name}/bare: ${(ratio * 100).toFixed(1)} %`)
            if (judged && app.name !== "before" && body.type === "json") {
              results.push(judge(`${app.name}: autocannon ${body === fullJson ? "full deliveries" : "privacy JSON"} throughput ≥ 50 % of bare`, ratio >= 0.5, `${(ratio * 100).toFixed(1)} %`))
            }
          }
          if (body === privacyJson) {
            // the paced load tool's own share of the latency: bare at the same steady rate
            const bareSteady = await load(bare.port, "/", body, 1000)
            results.push(row("autocannon bare steady 1,000 req/s", bareSteady))
            for (const app of ordered) {
              const cpu0 = cpuMicros(app.child.pid!)
              const steady = await load(app.port, "/api/v1/webhooks/openrouter", body, 1000, app.acks)
              const cpu = cpuMicros(app.child.pid!) - cpu0
              results.push(row(`autocannon ${app.name} steady 1,000 req/s`, steady) + cpuText(cpu, steady.requests.total))
              // judged here only without wrk: autocannon paces in whole-millisecond ticks and reports whole
              // milliseconds, and its bare p99 at this rate is mostly its own (docs/benchmarks.md)
              if (judged && app.name !== "before" && !tools.includes("wrk")) {
                const after = fsyncFloor()
                const f = { p50: Math.max(floorBefore.p50, after.p50), p99: Math.max(floorBefore.p99, after.p99), n: after.n }
                results.push(judge(`${app.name}: steady 1,000 req/s p50 ≤ fsync p50 + 1 ms`, steady.latency.p50 <= f.p50 + 1, `p50 ${ms(steady.latency.p50)}, floor p50 ${ms(f.p50)}`))
                results.push(judge(`${app.name}: steady 1,000 req/s p99 ≤ fsync p99 + 2 ms`, steady.latency.p99 <= f.p99 + 2, `p99 ${ms(steady.latency.p99)}, floor p99 ${ms(f.p99)} (bare at the same rate: p50 ${ms(bareSteady.latency.p50)}, p99 ${ms(bareSteady.latency.p99)})`))
              }
            }
          }
        }
        if (tools.includes("wrk") && body.type === "json") {
          const stopBare = probe(`http://127.0.0.1:${bare.port}/health`)
          const b = await wrk(bare.port, "/", body.template)
          const bareHealth = await stopBare()
          const fmt = (n: string, r: Awaited<ReturnType<typeof wrk>>, m?: number) =>
            `${n.padEnd(34)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   2xx ${r.ok}   ${non2xxText(r)}${m === undefined ? "" : `   max RSS ${m.toFixed(0)} MB`}`
          results.push(fmt("wrk bare node:http", b))
          results.push(`   a light request every 20 ms to bare while saturated: p50 ${ms(bareHealth.p50)}, p99 ${ms(bareHealth.p99)} (${bareHealth.n})`)
          const measured = []
          for (const app of ordered) {
            const stopRss = rssSampler(app.child.pid!)
            const cpu0 = cpuMicros(app.child.pid!)
            const stopHealth = probe(`http://127.0.0.1:${app.port}/health`)
            const a = await wrk(app.port, "/api/v1/webhooks/openrouter", body.template)
            const health = await stopHealth()
            const cpu = cpuMicros(app.child.pid!) - cpu0
            const rss = stopRss()
            const lag = await eventLoopLag(app.port)
            app.peak = Math.max(app.peak, rss)
            app.acks.accepted += a.accepted
            app.acks.duplicates += a.duplicates
            measured.push({ app, a, rss, cpu, health, lag })
          }
          const after = fsyncFloor()
          floor = { p50: Math.max(floor.p50, after.p50), p99: Math.max(floor.p99, after.p99), n: after.n }
          results.push(floorText("after the load", after))
          for (const { a, app, cpu, rss, health, lag } of measured.sort((x, y) => apps.indexOf(x.app) - apps.indexOf(y.app))) {
            const ratio = a.rps / b.rps
            results.push(fmt(`wrk ${app.name} webhook`, a, rss) + cpuText(cpu, a.ok + a.non2xx))
            results.push(`   /health every 20 ms while the webhook is saturated: p50 ${ms(health.p50)}, p99 ${ms(health.p99)} (${health.n}); ${lagText(lag)}`)
            results.push(`wrk ratio ${app.name}/bare: ${(ratio * 100).toFixed(1)} %`)
            if (judged && app.name !== "before") {
              const kind = body === fullJson ? "full deliveries" : "privacy JSON"
              results.push(judge(`${app.name}: wrk ${kind} throughput ≥ 50 % of bare`, ratio >= 0.5, `${a.rps.toFixed(0)} vs ${b.rps.toFixed(0)} req/s, ${(ratio * 100).toFixed(1)} %`))
              if (body === privacyJson) {
                results.push(judge(`${app.name}: wrk p99 at saturation ≤ bare p99 + fsync p99`, a.p99 <= b.p99 + floor.p99, `${ms(a.p99)} vs ${ms(b.p99)} + ${ms(floor.p99)}`))
                results.push(judge(`${app.name}: /health p99 while saturated ≤ bare's own p99 at saturation`, health.p99 <= b.p99, `${ms(health.p99)} vs ${ms(b.p99)} (a light request to bare while bare is saturated: p99 ${ms(bareHealth.p99)})`))
              }
            }
          }
          if (body === privacyJson) {
            // The steady rate, paced by wrk (Poisson arrivals, each request timed to the µs), bare first:
            // its figures are the load tool's and the machine's own share of the latency.
            const bareSteady = await wrk(bare.port, "/", body.template, 1000)
            results.push(fmt("wrk bare steady ~1,000 req/s", bareSteady))
            for (const app of ordered) {
              await eventLoopLag(app.port) // resets prom-client's histogram: the next read is this run's
              const cpu0 = cpuMicros(app.child.pid!)
              const steady = await wrk(app.port, "/api/v1/webhooks/openrouter", body.template, 1000)
              const cpu = cpuMicros(app.child.pid!) - cpu0
              const lag = await eventLoopLag(app.port)
              app.acks.accepted += steady.accepted
              app.acks.duplicates += steady.duplicates
              const after = fsyncFloor()
              results.push(fmt(`wrk ${app.name} steady ~1,000 req/s`, steady) + cpuText(cpu, steady.ok + steady.non2xx))
              results.push(`   ${lagText(lag)} (prom-client's sampling timer: a stall shows as the excess over its period, which the p50 shows)`)
              results.push(floorText("right after it", after))
              if (judged && app.name !== "before") {
                const f = { p50: Math.max(floorBefore.p50, after.p50), p99: Math.max(floorBefore.p99, after.p99) }
                results.push(judge(`${app.name}: steady ~1,000 req/s p50 ≤ fsync p50 + 1 ms (wrk, paced)`, steady.p50 <= f.p50 + 1, `p50 ${ms(steady.p50)} at ${steady.rps.toFixed(0)} req/s, floor p50 ${ms(f.p50)} (bare at the same rate: p50 ${ms(bareSteady.p50)})`))
                results.push(judge(`${app.name}: steady ~1,000 req/s p99 ≤ fsync p99 + 2 ms (wrk, paced)`, steady.p99 <= f.p99 + 2, `p99 ${ms(steady.p99)}, floor p99 ${ms(f.p99)} (bare at the same rate: p99 ${ms(bareSteady.p99)})`))
              }
            }
          }
        }
      }
    }
    // What a delivery costs at a client's own rate: a few a second, each arriving alone, so each
    // wakes the server's threads (the saturated figures share one wake-up among many deliveries).
    if (judged && wanted(variants.find(([, b]) => b === privacyJson)![0])) {
      for (const [i, rate] of CLIENT_RATES.entries()) {
        // bare first; before and after take turns to go first
        const ordered = i % 2 === 0 ? apps : [...apps].reverse()
        const servers = [
          { name: "bare", port: bare.port, pid: bare.child.pid!, path: "/" },
          ...ordered.map((app) => ({ name: app.name, port: app.port, pid: app.child.pid!, path: "/api/v1/webhooks/openrouter", app }))
        ]
        for (const server of servers) {
          if (CLIENT_SETTLE_SECONDS > 0) {
            // a short saturating burst first: a writer thread ended for being idle (30 s) starts
            // again cold, and a client sending steadily keeps its code optimized
            const burst = await wrk(server.port, server.path, privacy, undefined, 2)
            const settle = await wrk(server.port, server.path, privacy, rate, CLIENT_SETTLE_SECONDS)
            if ("app" in server) server.app.acks.accepted += burst.accepted + settle.accepted
          }
          const cpu0 = cpuMicros(server.pid)
          const wakes0 = allWakeUps(server.pid)
          const r = await wrk(server.port, server.path, privacy, rate, CLIENT_SECONDS)
          const cpu = cpuMicros(server.pid) - cpu0
          const wakes = wakeUpsSince(server.pid, wakes0)
          if ("app" in server) {
            server.app.acks.accepted += r.accepted
            server.app.acks.duplicates += r.duplicates
          }
          const n = Math.max(1, r.ok + r.non2xx)
          results.push(`wrk ${server.name} at ${rate} req/s (paced, ${CLIENT_SECONDS} s)`.padEnd(40) + ` ${r.rps.toFixed(1).padStart(6)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   ${non2xxText(r)}   CPU ${(cpu / n).toFixed(0)} µs/req   ${(wakes / n).toFixed(1)} wake-ups/req (all threads)${r.socketErrors === "" ? "" : `   socket errors: ${r.socketErrors}`}`)
        }
      }
    }
    // Idle again after the load: the ledger writer's thread ends after 30 s with nothing to do.
    if (process.env.IDLE_AFTER !== "0") {
      await new Promise((r) => setTimeout(r, IDLE_AFTER_MS))
      for (const app of apps) {
        const idle = rssNow(app.child.pid!)
        results.push(`${app.name}: server RSS idle ${IDLE_AFTER_MS / 1000} s after the load ${idle.toFixed(0)} MB`)
        if (judged && app.name !== "before") {
          results.push(judge(`${app.name}: idle RSS after the load < 80 MB`, idle < 80, `${idle.toFixed(0)} MB`))
        }
      }
    }
    for (const app of apps) {
      app.child.kill("SIGTERM")
      await new Promise((r) => app.child.once("exit", r))
      const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
      const stored = (db.prepare("SELECT count(*) AS n FROM ledger_events WHERE generation_id LIKE 'gen-bench-%'").get() as { n: number }).n
      db.close()
      Fs.rmSync(app.dataDir, { recursive: true, force: true })
      // A duplicate delivery is answered 2xx too: what must be stored is what the replies accepted.
      const ok = stored >= app.acks.accepted
      allStored &&= ok
      // what the server itself said went wrong (a non-2xx reply is logged with its reason), counted
      const said = new Map<string, number>()
      for (const w of app.warnings()) {
        const text = w.replace(/"timestamp":"[^"]*",?/, "").replace(/"fiber":"[^"]*",?/, "").slice(0, 300)
        said.set(text, (said.get(text) ?? 0) + 1)
      }
      results.push(`${app.name}: the server's warnings and errors: ${said.size === 0 ? "none" : ""}`)
      for (const [text, n] of said) results.push(`   ${n} × ${text}`)
      results.push(`${app.name}: server RSS peak under load ${app.peak.toFixed(0)} MB; ledger rows ${stored}, accepted in replies (warm-up included) ${app.acks.accepted}, duplicates in replies ${app.acks.duplicates}: every accepted event stored ${ok ? "yes" : "NO"}`)
      if (judged && app.name !== "before") {
        results.push(judge(`${app.name}: RSS under the webhook benchmark < 120 MB`, app.peak < 120, `${app.peak.toFixed(0)} MB`))
        results.push(judge(`${app.name}: every 2xx event in the ledger`, ok, `${stored} rows, ${app.acks.accepted} accepted`))
      }
    }
  }
  bare.child.kill("SIGTERM")
  console.log(`machine: ${Os.cpus().length} cores, node ${process.version}, load average at end ${Os.loadavg().map((l) => l.toFixed(2)).join(" ")}; every accepted event stored: ${allStored ? "yes" : "NO"}`)
  console.log(`\ntargets (LEDGER_SYNC=full; floor: the worse of the fsync floors of this run, p50 ${ms(floor.p50)}, p99 ${ms(floor.p99)}):`)
  for (const v of verdicts) console.log(`  ${v}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
