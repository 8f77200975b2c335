/**
 * Webhook throughput and latency, side by side with a bare node:http server that reads
 * the body and answers 200: same payloads, same load tool (autocannon), same connections, same run.
 * Then checks that every 2xx event is in the ledger, and samples the app's RSS during the load.
 *
 *   npm run bench:webhook            (DURATION=10 CONNECTIONS=32 to change)
 */
import autocannon from "autocannon"
import Database from "better-sqlite3"
import { spawn, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
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

const load = (port: number, path: string, body: Body) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        connections,
        duration,
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

const main = async () => {
  const bare = await start(process.execPath, [Path.join(root, "bench/bare-server.mjs")], { PORT: "0" })
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-bench-"))
  const app = await start(process.execPath, [process.env.APP_ENTRY ?? Path.join(root, "bin/mai-usage.js"), "serve"], {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    OPENROUTER_WEBHOOK_SECRET: secret,
    DAILY_BATCH_ENABLED: "false"
  })
  // Warm both up (JIT, statement cache) before measuring.
  const privacyJson: Body = { type: "json", template: privacy }
  await Promise.all([load(bare.port, "/", privacyJson), load(app.port, "/api/v1/webhooks/openrouter", privacyJson)])
  const results: Array<string> = []
  let appAcked = 0
  const variants: Array<[string, Body]> = [
    [`privacy-mode JSON (${(privacy.length / 1024).toFixed(1)} KB)`, privacyJson],
    [`privacy-mode protobuf (${(protobufTemplate.body.length / 1024).toFixed(1)} KB)`, { type: "protobuf" }],
    [`full with prompts JSON (${(full.length / 1024).toFixed(0)} KB)`, { type: "json", template: full }]
  ]
  const only = process.env.BODIES?.split(",")
  for (const [label, body] of variants) {
    if (only !== undefined && !only.some((o) => label.startsWith(o))) continue
    const b = await load(bare.port, "/", body)
    const stopRss = rssSampler(app.child.pid!)
    const a = await load(app.port, "/api/v1/webhooks/openrouter", body)
    const rss = stopRss()
    appAcked += a["2xx"]
    results.push(`-- ${label}, ${connections} connections, ${duration} s each`)
    results.push(row("bare node:http", b))
    results.push(row("mai-usage webhook", a, rss))
    results.push(`ratio app/bare: ${(a.requests.average / b.requests.average * 100).toFixed(1)} %  (target ≥ 50 %; p99 target < 10 ms)`)
  }
  bare.child.kill("SIGTERM")
  app.child.kill("SIGTERM")
  await new Promise((r) => app.child.once("exit", r))
  const db = new Database(Path.join(dataDir, "usage_ledger.db"), { readonly: true })
  const stored = (db.prepare("SELECT count(*) AS n FROM ledger_events WHERE generation_id LIKE 'gen-bench-%'").get() as { n: number }).n
  db.close()
  console.log(results.join("\n"))
  console.log(`ledger rows for measured + warm-up requests: ${stored}; 2xx in measured runs: ${appAcked} (every 2xx stored: ${stored >= appAcked ? "yes" : "NO"})`)
  console.log(`machine: ${Os.cpus().length} cores, node ${process.version}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
