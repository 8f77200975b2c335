/**
 * Podman as this project's machines run it: rootful, vfs storage, runc with the cgroupfs manager,
 * and file/process limits the runtime may set. Every call is asynchronous, so the NBP stand-in
 * that runs in this process keeps answering the containers while a command waits.
 */
import { execFile, spawn } from "node:child_process"
import * as Path from "node:path"
import { repoRoot } from "../support/process.js"

export const GLOBAL_FLAGS = ["--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
export const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `podman <args>`; never throws, the caller judges the exit code. */
export const podman = (...args: Array<string>): Promise<Result> =>
  new Promise((resolve) => {
    execFile("podman", [...GLOBAL_FLAGS, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 127
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })

/** `podman <args>` that must succeed; its stdout, trimmed. */
export const podmanOk = async (...args: Array<string>): Promise<string> => {
  const r = await podman(...args)
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(-2000)}`)
  return r.stdout.trim()
}

/**
 * Why Podman cannot run here, or undefined when it can: `podman info` with this machine's flags
 * answers. (Whether containers really start is what the test itself then finds out.)
 */
export const podmanUnavailable = async (): Promise<string | undefined> => {
  const r = await podman("info", "--format", "{{.Host.OCIRuntime.Name}}")
  if (r.code === 127) return "podman is not installed (apt-get install podman runc crun debootstrap)"
  if (r.code !== 0) return `podman info failed: ${r.stderr.trim().split("\n").slice(-1)[0]}`
  return undefined
}

export interface Images {
  readonly app: string
  readonly nbp: string
  readonly console: string
  readonly base: string
  readonly buildSeconds: number
}

const script = Path.join(repoRoot, "test/images/build-base.sh")

/** test/images/build-base.sh: the base (cached by content) and both images; progress goes to stderr. */
export const buildImages = (): Promise<Images> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    // MAI_IMAGES_NO_BUILD=1: use the images of the last build as they are (trying variants by hand).
    const args = process.env.MAI_IMAGES_NO_BUILD === "1" ? ["-c", "echo localhost/mai-usage:test; echo localhost/mai-nbp-service:test; echo localhost/mai-console:test"] : [script]
    const child = spawn("bash", args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.on("error", reject)
    child.on("exit", async (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code} (its output is above)`))
      const [app, nbp, console] = out.trim().split("\n").slice(-3)
      const base = await new Promise<string>((res) => {
        execFile("bash", [script, "--base"], { cwd: repoRoot }, (_e, stdout) => res(String(stdout).trim()))
      })
      resolve({ app, nbp, console, base, buildSeconds: (Date.now() - started) / 1000 })
    })
  })

export const inspect = (name: string, format: string) => podmanOk("inspect", "--format", format, name)

/** Logs of a container, for failure messages (never contains a secret: the app does not log them). */
export const logsOf = async (name: string) => {
  const r = await podman("logs", "--tail", "40", name)
  return (r.stdout + r.stderr).trim()
}

/**
 * Waits until the image's own HEALTHCHECK reports healthy. Podman schedules health checks with
 * systemd timers; where there is no systemd it runs none by itself, so this runs the configured
 * check (`podman healthcheck run`), which records its result in the container's state.
 */
export const waitHealthy = async (name: string, timeoutMs = 120_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const running = await inspect(name, "{{.State.Running}}")
    if (running !== "true") {
      throw new Error(`${name} stopped (exit ${await inspect(name, "{{.State.ExitCode}}")}):\n${await logsOf(name)}`)
    }
    await podman("healthcheck", "run", name)
    const status = await inspect(name, "{{.State.Health.Status}}")
    if (status === "healthy") return status
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs / 1000} s:\n${await logsOf(name)}`)
}
