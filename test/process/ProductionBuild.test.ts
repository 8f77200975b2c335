/**
 * The production build runs on its own: a copy of `dist/`, `bin/`, `package.json` and only the
 * production dependencies (what `npm ci --omit=dev` installs, hard-linked), with no TypeScript
 * loader anywhere in the process or reachable from it.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture, tempDir } from "../support/app.js"
import { bareEnv, freePort, repoRoot, type Running, spawnNode, waitForHealth } from "../support/process.js"

const loaders = /(^|[\\/])(tsx|typescript|esbuild|@esbuild|ts-node|@swc)([\\/]|$)/

/** Top-level node_modules entries of the production dependency tree, as npm sees it. */
const productionPackages = (): Array<string> => {
  const out = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: repoRoot, encoding: "utf8" })
  const top = new Set<string>()
  for (const line of out.split("\n")) {
    const m = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)$/.exec(line.trim())
    if (m && !line.includes(Path.join("node_modules", m[1], "node_modules"))) top.add(m[1])
  }
  return [...top]
}

const copyTree = (from: string, to: string) => {
  Fs.mkdirSync(Path.dirname(to), { recursive: true })
  try {
    execFileSync("cp", ["-al", from, to]) // hard links: fast, and resolution stays inside the copy
  } catch {
    Fs.cpSync(from, to, { recursive: true })
  }
}

let checkout: string
let cleanup: Array<string> = []

beforeAll(() => {
  checkout = tempDir("mai-usage-prod-")
  cleanup.push(checkout)
  for (const entry of ["dist", "bin", "package.json"]) copyTree(Path.join(repoRoot, entry), Path.join(checkout, entry))
  for (const pkg of productionPackages()) copyTree(Path.join(repoRoot, "node_modules", pkg), Path.join(checkout, "node_modules", pkg))
}, 120_000)

afterAll(() => {
  for (const d of cleanup) Fs.rmSync(d, { recursive: true, force: true })
})

const start = async (nodeArgs: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) => {
  const port = await freePort()
  const dataDir = tempDir()
  cleanup.push(dataDir)
  const env = {
    ...bareEnv(),
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    OPENROUTER_WEBHOOK_SECRET: "s3cret-prod-0123456789",
    DAILY_BATCH_ENABLED: "false",
    ...extraEnv
  }
  // the image's command (`node --max-semi-space-size=2 --max-old-space-size=128 --v8-pool-size=1 --no-maglev dist/bin.js serve`), run from the copy
  const running = spawnNode([...nodeArgs, "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist/bin.js", "serve"], env, checkout)
  const url = `http://127.0.0.1:${port}`
  await waitForHealth(url, running)
  return { running, url }
}

const deliver = (url: string) =>
  fetch(url + "/api/v1/webhooks/openrouter", {
    method: "POST",
    headers: { authorization: "Bearer s3cret-prod-0123456789", "content-type": "application/json" },
    body: fixture("delivery-privacy-mode.json")
  })

const stop = async (r: Running) => {
  r.child.kill("SIGTERM")
  return r.exited
}

describe("the production build", () => {
  it("has neither tsx nor typescript among the production dependencies", () => {
    const out = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: repoRoot, encoding: "utf8" })
    const paths = out.split("\n").filter((l) => l.includes("node_modules"))
    expect(paths.length).toBeGreaterThan(10)
    expect(paths.filter((p) => /[\\/]node_modules[\\/](tsx|typescript)$/.test(p))).toEqual([])
    expect(Fs.existsSync(Path.join(checkout, "node_modules", "tsx"))).toBe(false)
    expect(Fs.existsSync(Path.join(checkout, "node_modules", "typescript"))).toBe(false)
    expect(Fs.existsSync(Path.join(checkout, "node_modules", "better-sqlite3"))).toBe(true)
  })

  it("serves a fixture delivery from dist/ with no loader flag, no NODE_OPTIONS, nothing TypeScript loaded", async () => {
    const { running, url } = await start([])
    try {
      const pid = running.child.pid!
      const cmdline = Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)
      // process.execArgv is only the heap settings: no --import/--loader/--require
      expect(cmdline).toEqual([process.execPath, "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist/bin.js", "serve"])
      const environ = Fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")
      expect(environ.filter((e) => e.startsWith("NODE_OPTIONS="))).toEqual([])
      const maps = Fs.readFileSync(`/proc/${pid}/maps`, "utf8")
      expect(maps).not.toMatch(loaders) // no esbuild service binary or loader library mapped
      expect(maps).toMatch(/better_sqlite3\.node/) // the native ledger driver is loaded from the copy
      expect(maps).toContain(checkout)

      const res = await deliver(url)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ accepted: 1, duplicates: 0 })
      // the dashboard's assets are read from dist/ (copied by the build), byte for byte
      const dashboardJs = await fetch(url + "/assets/dashboard.js")
      expect(dashboardJs.status).toBe(200)
      expect(await dashboardJs.text()).toBe(Fs.readFileSync(Path.join(repoRoot, "src", "dashboard", "assets", "dashboard.js"), "utf8"))
    } finally {
      expect(await stop(running)).toBe(0)
    }
  })

  it("resolves only compiled JavaScript: every module it loads is the bundle, a production package or a Node built-in", async () => {
    // A module-resolution hook records every module the server loads; everything else is as above.
    const log = Path.join(checkout, "resolved.log")
    const hooks = Path.join(checkout, "probe-hooks.mjs")
    Fs.writeFileSync(hooks, [
      "import { appendFileSync } from 'node:fs'",
      "export async function resolve(specifier, context, next) {",
      "  const r = await next(specifier, context)",
      `  appendFileSync(${JSON.stringify(log)}, r.url + '\\n')`,
      "  return r",
      "}"
    ].join("\n"))
    const probe = Path.join(checkout, "probe.mjs")
    Fs.writeFileSync(probe, [
      "import { register } from 'node:module'",
      `register(${JSON.stringify("file://" + hooks)})`,
      // CommonJS modules (better-sqlite3 and its helpers) do not pass that hook: list them at exit
      "import Module from 'node:module'",
      "import { appendFileSync } from 'node:fs'",
      `process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(Module._cache).map((f) => 'file://' + f + '\\n').join('')))`
    ].join("\n"))
    const { running, url } = await start(["--import", "file://" + probe])
    try {
      expect((await deliver(url)).status).toBe(200)
    } finally {
      expect(await stop(running)).toBe(0)
    }
    {
      const resolved = [...new Set(Fs.readFileSync(log, "utf8").split("\n").filter(Boolean))]
      expect(resolved.some((u) => u.endsWith("better-sqlite3/lib/index.js"))).toBe(true)
      const ours = resolved.filter((u) => !u.startsWith("node:") && !u.includes("probe"))
      expect(ours).toContain("file://" + Path.join(checkout, "dist", "bin.js"))
      for (const u of ours) {
        expect(u).not.toMatch(/\.(ts|mts|cts|tsx)$/)
        expect(u).not.toMatch(loaders)
        expect(u.replace("file://", "").startsWith(checkout)).toBe(true)
      }
    }
  })
})
