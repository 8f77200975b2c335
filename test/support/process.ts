/** Runs the real `mai-usage` binary as a child process, as an operator would. */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "./app.js"
import { tempDir } from "./tmp.js"

export const repoRoot = Path.resolve(new URL("../..", import.meta.url).pathname)
export const binPath = Path.join(repoRoot, "bin", "mai-usage.js")

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = Net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as Net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** Only what a bare machine has: no configuration variables at all. */
export const bareEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp"
})

export interface Running {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

/** `node <args>` in `cwd`, its output collected. */
export const spawnNode = (args: ReadonlyArray<string>, env: Record<string, string>, cwd = repoRoot): Running =>
  spawnProgram(process.execPath, args, env, cwd)

/** `mai-usage <args>` as an operator runs it: the package's bin as a program (its first line sets the memory flags). */
export const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string>, cwd = repoRoot): Running =>
  spawnProgram(binPath, args, env, cwd)

/** A program (not `node <file>`) in `cwd`, its output collected; `node` is found on `env.PATH`. */
export const spawnProgram = (program: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd = repoRoot): Running => {
  const child = spawn(program, args, { cwd, env: { ...env, PATH: `${Path.dirname(process.execPath)}:${env.PATH ?? ""}` }, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  let err = ""
  child.stdout!.on("data", (d) => (out += d))
  child.stderr!.on("data", (d) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

export const runCli = async (args: ReadonlyArray<string>, env: Record<string, string>, cwd = repoRoot) => {
  const r = spawnCli(args, env, cwd)
  const code = await r.exited
  return { code, stdout: r.stdout(), stderr: r.stderr() }
}

export const waitForHealth = async (url: string, running?: Running, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (running?.child.exitCode !== null && running?.child.exitCode !== undefined) {
      throw new Error(`server exited early (${running.child.exitCode}): ${running.stderr()}`)
    }
    try {
      const r = await fetch(url + "/health")
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`server did not become healthy: ${running?.stderr() ?? ""}`)
}

/** The server's resident memory in MB, from its own /proc/PID/status. */
export const rssMbOf = (pid: number | undefined): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024

/**
 * `mai-usage serve` from the production build on a free loopback port, with its own data folder,
 * the test secrets and no schedule; `vars` go over those. Ready once /health answers.
 */
export const startServeProcess = async (vars: Record<string, string> = {}) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = spawnCli(["serve"], {
    ...bareEnv(),
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: tempDir(),
    OPENROUTER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ADMIN_TOKEN,
    DAILY_BATCH_ENABLED: "false",
    ...vars
  })
  await waitForHealth(url, server, 60_000)
  const stop = async () => {
    server.child.kill("SIGTERM")
    await server.exited
  }
  return { server, port, url, rssMb: () => rssMbOf(server.child.pid), stop }
}
