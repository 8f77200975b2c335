#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=2 --max-old-space-size=128 --v8-pool-size=1 --no-maglev
// The package's `bin`, and what `npm start` runs: the compiled CLI (`npm run build`, which `npm ci`
// runs through `prepare`), always with the memory settings the image has too: two malloc arenas
// (not eight per core), memory handed back to the system sooner, a small young generation, one
// V8 helper thread, and no Maglev (Node 24's mid-tier compiler: ~10 MB of C heap under load for no
// throughput here; Node 20 has it off already). docs/benchmarks.md has the RSS figures. Run as a program, the line above sets them; run as
// `node bin/mai-usage.js`, it starts itself once more with them (in place where Node can, else as
// a child whose signals and exit status this process relays).
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const FLAGS = ["--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev"]
const ENV = { MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072" }

const entry = new URL("../dist/bin.js", import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write("mai-usage: dist/bin.js is missing; run `npm run build` (or `npm ci`) first\n")
  process.exit(1)
}
const flagged = FLAGS.every((f) => process.execArgv.some((a) => a.split("=")[0] === f.split("=")[0]))
const missingEnv = Object.keys(ENV).filter((k) => process.env[k] === undefined)
if (flagged && missingEnv.length === 0) {
  await import(entry.href)
} else {
  const args = [...FLAGS.filter((f) => !process.execArgv.includes(f)), ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)]
  const env = { ...Object.fromEntries(missingEnv.map((k) => [k, ENV[k]])), ...process.env }
  if (typeof process.execve === "function") process.execve(process.execPath, [process.execPath, ...args], env)
  const child = spawn(process.execPath, args, { env, stdio: "inherit" })
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal))
  child.on("exit", (code, signal) => (signal === null ? process.exit(code ?? 1) : process.kill(process.pid, signal)))
}
