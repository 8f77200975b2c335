/**
 * Webhook throughput and latency, side by side with a bare node:http server that reads
 * the body and answers 200: same payloads, same load tool (autocannon), same connections, same run.
 * Then checks that every 2xx event is in the ledger, and samples the app's RSS during the load.
 * The app is the production build (`node dist/bin.js serve`, as `npm start` runs it: no TypeScript
 * loader), once per LEDGER_SYNC setting (full, then normal); the RSS is read from the server
 * process's own /proc/PID/status. Both load tools: autocannon (also paced at a steady
 * 1,000 req/s with `overallRate`) and wrk (Debian `wrk`, a Lua script gives each request a fresh id).
 * Start-up: process start to the first /health 200.
 *
 *   npm run bench:webhook   (DURATION=10 CONNECTIONS=32 SYNCS=full,normal BODIES=privacy-mode,full TOOLS=autocannon,wrk)
 */
import autocannon from "autocannon"
import Database from "better-sqlite3"
import { spawn, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { encodeRequest } from "../src/ingest/OtlpProto.js"

const root = Path.resolve(new URL("..", import.meta.url).pathname)
const duration = Number(process.env.DURATION ?? 10)
const connections = Number(process.env.CONNECTIONS ?? 32)
const secret = "bench-secret-0123456789"

const privacy = Fs.readFileSync(Path.join(root, "test/fixtures/openrouter/delivery-privacy-mode.json"), "utf8")
const full = (() => {
  // A full delivery with prompts: pad the conversation to ~150 KB, as real ones with history are.
  const d = JSON.parse(Fs.readFileSync(Path.join(root, "test/fixtures/openrouter/delivery-full.json"), "utf8"))
  const span = d.resourceSpans[0].scopeSpans[0].spans[0]
  const prompt = span.attributes.find((a: any) => a.key === "gen_ai.prompt")
  prompt.value.stringValue = prompt.value.stringValue + " lorem ipsum dolor".repeat(8500)
  return JSON.stringify(d)
})()
const GEN_ID = /gen-1790\d+-[A-Za-z0-9]+/g

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
  new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout!.on("data", (d) => {
      out += d
      const m = /listening (\d+)/.exec(out) ?? /"listening",\{"port":(\d+)/.exec(out) ??
        /"message":"listening","port":(\d+)/.exec(out)
      if (m) resolve({ child, port: Number(m[1]) })
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

const load = (port: number, path: string, body: Body, rate?: number) =>
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
        requests: [{ setupRequest: (req: any) => ({ ...req, body: bodyOf(body) }) }]
      },
      (err, res) => (err ? reject(err) : resolve(res))
    )
  })

const row = (name: string, r: autocannon.Result, rss?: number) =>
  `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   2xx ${String(r["2xx"]).padStart(7)}   non-2xx ${r.non2xx}${rss === undefined ? "" : `   max RSS ${rss.toFixed(0)} MB`}`

const rssNow = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024

/** wrk with a Lua script: each request gets a fresh generation id (thread number + counter). */
const wrk = async (port: number, path: string, template: string) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-wrk-"))
  try {
    const parts = template.split(GEN_ID)
    const lua = `
local parts = {${parts.map((p) => `[==[${p}]==]`).join(",")}}
local counter = 0
local tid = 0
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) tid = tid or 0 end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer ${secret}"
function request()
  counter = counter + 1
  local id = "gen-bench-wrk-" .. tostring(tid) .. "-" .. tostring(counter) .. "-" .. tostring(os.time())
  local body = table.concat(parts, id)
  return wrk.format(nil, "${path}", nil, body)
end`
    Fs.writeFileSync(Path.join(dir, "post.lua"), lua)
    const { stdout: out } = await promisify(execFile)("wrk", ["-t2", `-c${connections}`, `-d${duration}s`, "--latency", "-s", Path.join(dir, "post.lua"), `http://127.0.0.1:${port}${path}`], { encoding: "utf8" })
    const ms = (label: string) => {
      const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
      if (!m) return NaN
      return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1)
    }
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
    const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
    return { rps, p50: ms("50"), p99: ms("99"), ok: total - non2xx, non2xx }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const startApp = async (sync: string) => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-"))
  const t0 = performance.now()
  // as `npm start` runs it (package.json): the same flags and malloc settings, no npm wrapper
  const app = await start(process.execPath, ["--max-semi-space-size=2", process.env.APP_ENTRY ?? Path.join(root, "dist/bin.js"), "serve"], {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    OPENROUTER_WEBHOOK_SECRET: secret,
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

const main = async () => {
  const bare = await start(process.execPath, [Path.join(root, "bench/bare-server.mjs")], { PORT: "0" })
  const privacyJson: Body = { type: "json", template: privacy }
  const variants: Array<[string, Body]> = [
    [`privacy-mode JSON (${(privacy.length / 1024).toFixed(1)} KB)`, privacyJson],
    [`privacy-mode protobuf (${(protobufTemplate.body.length / 1024).toFixed(1)} KB)`, { type: "protobuf" }],
    [`full with prompts JSON (${(full.length / 1024).toFixed(0)} KB)`, { type: "json", template: full }]
  ]
  const only = process.env.BODIES?.split(",")
  const tools = (process.env.TOOLS ?? "autocannon,wrk").split(",")
  const results: Array<string> = []
  let allStored = true
  for (const sync of (process.env.SYNCS ?? "full,normal").split(",")) {
    const app = await startApp(sync)
    await new Promise((r) => setTimeout(r, 2000))
    const idle = rssNow(app.child.pid!)
    results.push(`== LEDGER_SYNC=${sync}: start to first /health 200 ${app.startMs.toFixed(0)} ms; server RSS idle ${idle.toFixed(0)} MB (targets: < 1000 ms, < 100 MB)`)
    await Promise.all([load(bare.port, "/", privacyJson), load(app.port, "/api/v1/webhooks/openrouter", privacyJson)]) // warm-up
    let appAcked = 0
    let peak = 0
    for (const [label, body] of variants) {
      if (only !== undefined && !only.some((o) => label.startsWith(o))) continue
      results.push(`-- ${label}, ${connections} connections, ${duration} s each`)
      if (tools.includes("autocannon")) {
        const b = await load(bare.port, "/", body)
        const stopRss = rssSampler(app.child.pid!)
        const a = await load(app.port, "/api/v1/webhooks/openrouter", body)
        const rss = stopRss()
        peak = Math.max(peak, rss)
        appAcked += a["2xx"]
        results.push(row("autocannon bare node:http", b))
        results.push(row("autocannon mai-usage webhook", a, rss))
        results.push(`autocannon ratio app/bare: ${(a.requests.average / b.requests.average * 100).toFixed(1)} %  (target ≥ 50 %; p99 < 10 ms)`)
        if (body === privacyJson) {
          const steady = await load(app.port, "/api/v1/webhooks/openrouter", body, 1000)
          appAcked += steady["2xx"]
          results.push(row("autocannon steady 1,000 req/s", steady) + "   (target p99 < 5 ms)")
        }
      }
      if (tools.includes("wrk") && body.type === "json") {
        const b = await wrk(bare.port, "/", body.template)
        const stopRss = rssSampler(app.child.pid!)
        const a = await wrk(app.port, "/api/v1/webhooks/openrouter", body.template)
        const rss = stopRss()
        peak = Math.max(peak, rss)
        appAcked += a.ok
        const fmt = (n: string, r: Awaited<ReturnType<typeof wrk>>, m?: number) =>
          `${n.padEnd(34)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   2xx ${r.ok}   non-2xx ${r.non2xx}${m === undefined ? "" : `   max RSS ${m.toFixed(0)} MB`}`
        results.push(fmt("wrk bare node:http", b))
        results.push(fmt("wrk mai-usage webhook", a, rss))
        results.push(`wrk ratio app/bare: ${(a.rps / b.rps * 100).toFixed(1)} %`)
      }
    }
    app.child.kill("SIGTERM")
    await new Promise((r) => app.child.once("exit", r))
    const db = new Database(Path.join(app.dataDir, "usage_ledger.db"), { readonly: true })
    const stored = (db.prepare("SELECT count(*) AS n FROM ledger_events WHERE generation_id LIKE 'gen-bench-%'").get() as { n: number }).n
    db.close()
    Fs.rmSync(app.dataDir, { recursive: true, force: true })
    allStored &&= stored >= appAcked
    results.push(`server RSS peak under load ${peak.toFixed(0)} MB (target < 150 MB); ledger rows (measured + warm-up) ${stored}, 2xx measured ${appAcked}: every 2xx stored ${stored >= appAcked ? "yes" : "NO"}`)
  }
  bare.child.kill("SIGTERM")
  console.log(results.join("\n"))
  console.log(`machine: ${Os.cpus().length} cores, node ${process.version}; every 2xx stored: ${allStored ? "yes" : "NO"}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
