/**
 * The footprint of the image (its Node 24, not the machine's), side by side with a bare node:http
 * server started in the same image with the same node flags and environment, same load, same run.
 * `bench:webhook` measures the build on the machine's Node; this is what a client's container holds.
 *
 * Both run under Podman as `test:images` runs it (vfs storage, runc, cgroupfs). The RSS is the
 * server process's own, read from the host's /proc (the app's server is tini's child). Load:
 * autocannon on loopback, privacy-mode JSON then ~150 KB full deliveries (fresh ids), 32
 * connections. Judged: idle RSS 12 s after the first /health 200 < 80 MB, the peak under the load
 * < 120 MB, idle 40 s after the load (past the ledger writer thread's idle end) < 80 MB. Printed
 * too: what an idle container costs in CPU and event-loop wake-ups, over the 10 s after the idle reading.
 *
 *   npm run bench:image   (DURATION=10 CONNECTIONS=32 IMAGE=<built image; default: test/images/build-base.sh builds it>)
 */
import autocannon from "autocannon"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { buildImages, podman, podmanOk, podmanUnavailable, ULIMITS } from "../test/images/podman.js"
import { cpuMicros, full, GEN_ID, idleReading, idleText, privacy } from "./deliveries.js"

const root = Path.resolve(new URL("..", import.meta.url).pathname)
const duration = Number(process.env.DURATION ?? 10)
const connections = Number(process.env.CONNECTIONS ?? 32)
const secret = "bench-secret-0123456789"
const IDLE_MS = 12_000
const AFTER_MS = 40_000
/** How long an idle container's CPU and wake-ups are counted, after the idle RSS reading. */
const IDLE_CPU_MS = 10_000

let seq = 0
const fresh = (template: string) => template.replace(GEN_ID, `gen-image-${process.pid}-${++seq}`)

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as Net.AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on("error", reject)
  })

/** A process's resident memory in MB: all of it (VmRSS), and its parts: anonymous (heaps) and file-backed (the binary's pages, shared through the page cache). */
const memOf = (pid: number) => {
  const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024
  return { rss: mb("VmRSS"), anon: mb("RssAnon"), file: mb("RssFile") }
}
type Mem = ReturnType<typeof memOf>
const NO_MEM: Mem = { rss: 0, anon: 0, file: 0 }
const split = (m: Mem) => `(anonymous ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)})`
/** The node server in a container: PID 1's child where tini is PID 1, else PID 1 itself. */
const serverPid = async (name: string) => {
  const pid = Number(await podmanOk("inspect", "--format", "{{.State.Pid}}", name))
  const comm = Fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()
  if (comm !== "tini") return pid
  return Number(Fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0])
}

const waitHealth = async (port: number, path: string) => {
  const started = Date.now()
  while (Date.now() - started < 60_000) {
    const ok = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status < 500, () => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`nothing answered on port ${port} within 60 s`)
}

const load = (port: number, template: string) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}/api/v1/webhooks/openrouter`,
        connections,
        duration,
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        requests: [{ setupRequest: (req: any) => ({ ...req, body: fresh(template) }) }]
      },
      (err, res) => (err ? reject(err) : resolve(res))
    )
  })

/** Peak RSS of `pid` while `run` runs (with its parts at that moment), sampled every 100 ms. */
const peakDuring = async <A>(pid: number, run: () => Promise<A>): Promise<[A, Mem]> => {
  let peak = memOf(pid)
  const t = setInterval(() => {
    try {
      const m = memOf(pid)
      if (m.rss > peak.rss) peak = m
    } catch {
      // gone
    }
  }, 100)
  try {
    return [await run(), peak]
  } finally {
    clearInterval(t)
  }
}

const judge = (what: string, met: boolean, figures: string) => `${met ? "MET    " : "NOT MET"}  ${what}: ${figures}`

const main = async () => {
  const why = await podmanUnavailable()
  if (why !== undefined) throw new Error(`bench:image needs Podman: ${why}`)
  const image = process.env.IMAGE ?? (await buildImages()).app
  // The image's own command: its node flags, after `node`, and its environment (the malloc settings).
  const cmd = JSON.parse(await podmanOk("image", "inspect", "--format", "{{json .Config.Cmd}}", image)) as Array<string>
  const flags = cmd.slice(1, cmd.indexOf("dist/bin.js"))
  const nodeVersion = await podmanOk("run", "--rm", "--no-healthcheck", ...ULIMITS, "--entrypoint", "node", image, "--version")
  const bare = Fs.readFileSync(Path.join(root, "bench/bare-server.mjs"), "utf8").replace('"127.0.0.1"', '"0.0.0.0"')
  const names: Array<string> = []
  const run = async (label: string, args: Array<string>) => {
    const name = `mai-bench-${label}-${process.pid}`
    const port = await freePort()
    await podman("rm", "-f", "-t", "0", name)
    await podmanOk("run", "--detach", "--rm", "--no-healthcheck", "--name", name, "--publish", `127.0.0.1:${port}:8080`, ...ULIMITS, ...args)
    names.push(name)
    return { name, port }
  }
  const lines: Array<string> = [`image ${image}: node ${nodeVersion}, flags ${flags.join(" ")}; ${connections} connections, ${duration} s per load`]
  try {
    const b = await run("bare", ["--env", "PORT=8080", "--entrypoint", "node", image, ...flags, "--input-type=module", "-e", bare])
    const a = await run("app", [
      "--env", "CLIENT_ORG_ID=org-bench",
      "--env", `OPENROUTER_WEBHOOK_SECRET=${secret}`,
      "--env", "ADMIN_TOKEN=bench-admin-token-0123456789",
      "--env", "DAILY_BATCH_ENABLED=false",
      image
    ])
    const servers = [
      { label: "bare", ...b, health: "/", pid: 0, idle: 0, peak: NO_MEM, after: 0 },
      { label: "app", ...a, health: "/health", pid: 0, idle: 0, peak: NO_MEM, after: 0 }
    ]
    for (const s of servers) {
      await waitHealth(s.port, s.health)
      s.pid = await serverPid(s.name)
    }
    await new Promise((r) => setTimeout(r, IDLE_MS))
    for (const s of servers) {
      const m = memOf(s.pid)
      s.idle = m.rss
      lines.push(`${s.label.padEnd(5)} idle RSS ${m.rss.toFixed(1)} MB ${split(m)}`)
    }
    // what an idle container costs once the start's own collections are over: CPU and wake-ups
    const idleFrom = servers.map((s) => idleReading(s.pid))
    await new Promise((r) => setTimeout(r, IDLE_CPU_MS))
    for (const [i, s] of servers.entries()) lines.push(`${s.label.padEnd(5)} idle, the next ${IDLE_CPU_MS / 1000} s: ${idleText(s.pid, idleFrom[i])}`)
    for (const [body, template] of [["privacy JSON", privacy], ["158 KB full", full]] as const) {
      for (const s of servers) {
        const cpu = cpuMicros(s.pid)
        const [r, peak] = await peakDuring(s.pid, () => load(s.port, template))
        const perRequest = (cpuMicros(s.pid) - cpu) / Math.max(1, r.requests.total)
        if (peak.rss > s.peak.rss) s.peak = peak
        lines.push(`${s.label.padEnd(5)} ${body.padEnd(13)} ${r.requests.average.toFixed(0).padStart(7)} req/s  CPU ${perRequest.toFixed(0)} µs/req  p99 ${String(r.latency.p99).padStart(4)} ms  2xx ${r["2xx"]}  non-2xx ${r.non2xx}  peak RSS ${peak.rss.toFixed(1)} MB ${split(peak)}`)
      }
    }
    await new Promise((r) => setTimeout(r, AFTER_MS))
    for (const s of servers) {
      const after = memOf(s.pid)
      s.after = after.rss
      lines.push(`${s.label.padEnd(5)} RSS: idle ${s.idle.toFixed(1)} MB ${IDLE_MS / 1000} s after answering, peak under the load ${s.peak.rss.toFixed(1)} MB ${split(s.peak)}, idle ${AFTER_MS / 1000} s after the load ${s.after.toFixed(1)} MB ${split(after)}`)
    }
    const [base, app] = servers
    lines.push(judge("image: idle RSS < 80 MB", app.idle < 80, `${app.idle.toFixed(1)} MB (bare node:http in the same image: ${base.idle.toFixed(1)} MB)`))
    lines.push(judge("image: RSS under the webhook load < 120 MB", app.peak.rss < 120, `${app.peak.rss.toFixed(1)} MB ${split(app.peak)} (bare: ${base.peak.rss.toFixed(1)} MB)`))
    lines.push(judge("image: idle RSS after the load < 80 MB", app.after < 80, `${app.after.toFixed(1)} MB (bare: ${base.after.toFixed(1)} MB)`))
  } finally {
    for (const name of names) await podman("rm", "-f", "-t", "0", name)
  }
  process.stdout.write(lines.join("\n") + "\n")
}

main().catch((e) => {
  process.stderr.write(`bench:image failed: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
