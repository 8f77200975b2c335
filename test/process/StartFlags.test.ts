/**
 * One way to start: `npm start`, the package's bin run as a program (`mai-usage serve`),
 * `node bin/mai-usage.js serve` and the CLI through npm (`npm run cli -- serve`) all run the server
 * process with the image's memory settings, read from the process's own /proc/PID/cmdline and
 * environ (as the image test reads the container's). The reseller's console (`npm run console`)
 * starts the same way.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tempDir } from "../support/app.js"
import { bareEnv, binPath, freePort, type Running, spawnNode, spawnProgram, waitForHealth } from "../support/process.js"

const dirs: Array<string> = []
afterAll(() => {
  for (const d of dirs) Fs.rmSync(d, { recursive: true, force: true })
})

const childrenOf = (pid: number): Array<number> =>
  Fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = Fs.readFileSync(`/proc/${d}/stat`, "utf8")
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid ? [Number(d)] : []
    } catch {
      return []
    }
  })

const argv = (pid: number) => Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)

const descendants = (pid: number): Array<number> => childrenOf(pid).flatMap((c) => [c, ...descendants(c)])
const isServer = (pid: number, command: string) => Path.basename(argv(pid)[0] ?? "") === "node" && argv(pid).includes(command)

/** The server: the deepest `node … <command>` process under `pid` (npm and a relaying bin stand above it). */
const serverUnder = (pid: number, command: string): number => {
  const servers = [pid, ...descendants(pid)].filter((p) => isServer(p, command))
  expect(servers.length).toBeGreaterThan(0)
  return servers.at(-1)!
}

type Way = {
  readonly name: string
  readonly command: "serve" | "console"
  readonly start: (env: Record<string, string>) => Running
}
const ways: ReadonlyArray<Way> = [
  { name: "mai-usage serve (the bin as a program)", command: "serve", start: (env) => spawnProgram(binPath, ["serve"], env) },
  { name: "npm start", command: "serve", start: (env) => spawnProgram("npm", ["start", "--silent"], env) },
  { name: "node bin/mai-usage.js serve", command: "serve", start: (env) => spawnNode([binPath, "serve"], env) },
  { name: "npm run cli -- serve", command: "serve", start: (env) => spawnProgram("npm", ["run", "--silent", "cli", "--", "serve"], env) },
  { name: "npm run console", command: "console", start: (env) => spawnProgram("npm", ["run", "--silent", "console"], env) }
]

/** What each process needs to answer /health on `port`, its data kept in `dataDir`. */
const envFor = (command: Way["command"], port: number, dataDir: string): Record<string, string> => {
  if (command === "serve") return { ...bareEnv(), PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, DAILY_BATCH_ENABLED: "false" }
  const clients = Path.join(dataDir, "clients.json")
  Fs.writeFileSync(clients, JSON.stringify({ imageVersion: "1", clients: [{ id: "a", orgId: "a", port: 9, adminToken: "a-admin-token-0123456789" }] }))
  return {
    ...bareEnv(),
    CONSOLE_PORT: String(port),
    CONSOLE_HOST: "127.0.0.1",
    CONSOLE_CLIENTS: clients,
    CONSOLE_ADMIN_TOKEN: "console-token-0123456789",
    DATA_DIR: Path.join(dataDir, "data")
  }
}

describe("every way to start the server gives it the same memory settings", () => {
  for (const { command, name, start } of ways) {
    it(name, async () => {
      const port = await freePort()
      const dataDir = tempDir()
      dirs.push(dataDir)
      const running = start(envFor(command, port, dataDir))
      try {
        await waitForHealth(`http://127.0.0.1:${port}`, running, 30_000)
        const server = serverUnder(running.child.pid!, command)
        const args = argv(server)
        expect(Path.basename(args[0])).toBe("node")
        expect(args).toContain("--max-semi-space-size=2")
        expect(args).toContain("--max-old-space-size=128")
        expect(args).toContain("--v8-pool-size=1")
        expect(args).toContain("--no-maglev")
        expect(args.at(-1)).toBe(command)
        expect(args.at(-2)!.endsWith(Path.join("bin", "mai-usage.js"))).toBe(true)
        const environ = Fs.readFileSync(`/proc/${server}/environ`, "utf8").split("\0")
        expect(environ).toEqual(expect.arrayContaining(["MALLOC_ARENA_MAX=2", "MALLOC_TRIM_THRESHOLD_=131072"]))
      } finally {
        // npm does not pass SIGTERM on to its script: stop every process under it, by pid
        for (const pid of descendants(running.child.pid!).reverse()) {
          try {
            process.kill(pid, "SIGTERM")
          } catch {
            // already gone
          }
        }
        running.child.kill("SIGTERM")
        await running.exited
      }
    }, 60_000)
  }
})
