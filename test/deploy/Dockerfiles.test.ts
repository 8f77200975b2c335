/**
 * The images, read as text: a fast check of their shape (multi-stage, production-only
 * dependencies, not root, tini as PID 1, a curl-free health check, Node 24). They are built and
 * run for real by `npm run test:images` (test/images), which this does not replace.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"

interface Stage {
  readonly name: string | undefined
  readonly lines: ReadonlyArray<string>
}

/** Instructions (continuation lines joined, comments dropped) grouped by FROM. */
const stages = (file: string): Array<Stage> => {
  const instructions = Fs.readFileSync(file, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
  const result: Array<{ name: string | undefined; lines: Array<string> }> = []
  for (const line of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line)
    if (from !== null) result.push({ name: from[1], lines: [] })
    else result.at(-1)?.lines.push(line)
  }
  return result
}

const instruction = (stage: Stage, keyword: string) =>
  stage.lines.filter((l) => l.toUpperCase().startsWith(`${keyword} `))

describe.each([
  ["docker/Dockerfile", 8080, /CMD \["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist\/bin\.js", "serve"\]/, "PORT"],
  ["docker/Dockerfile.nbp", 8001, /CMD \["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist\/nbp\.js"\]/, "PORT"],
  ["docker/Dockerfile.console", 8090, /CMD \["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist\/bin\.js", "console"\]/, "CONSOLE_PORT"]
])("%s", (file, port, command, portVariable) => {
  const all = stages(file)
  const final = all[all.length - 1]

  it("is multi-stage", () => {
    expect(all.length).toBeGreaterThanOrEqual(2)
  })

  it("is based on Node 24 (bookworm-slim), the base kept as a build argument", () => {
    const text = Fs.readFileSync(file, "utf8")
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m)
    for (const from of text.split("\n").filter((l) => /^FROM /.test(l))) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS /)
  })

  it("compiles in a build stage and runs the build: only dist/ comes from it", () => {
    const build = all.find((s) => instruction(s, "RUN").some((l) => /\bnpm run build\b/.test(l)))
    expect(build?.name).toBeDefined()
    const fromBuild = instruction(final, "COPY").filter((l) => l.includes(`--from=${build!.name}`))
    expect(fromBuild).toEqual([`COPY --from=${build!.name} /app/dist ./dist`])
  })

  it("installs production dependencies only: the final stage's node_modules come from `npm ci --omit=dev`", () => {
    const ranHere = instruction(final, "RUN").some((l) => l.includes("npm ci --omit=dev"))
    const copied = instruction(final, "COPY")
      .map((l) => /--from=(\S+)\s+\S*node_modules/.exec(l)?.[1])
      .filter((name): name is string => name !== undefined)
    expect(ranHere || copied.length > 0).toBe(true)
    for (const name of copied) {
      const source = all.find((s) => s.name === name)
      expect(source, `stage ${name}`).toBeDefined()
      expect(instruction(source!, "RUN").some((l) => l.includes("npm ci --omit=dev"))).toBe(true)
    }
    // No compiler in the image that runs.
    expect(instruction(final, "RUN").join(" ")).not.toMatch(/\b(g\+\+|make|python3)\b/)
  })

  it("runs as a non-root user", () => {
    const users = instruction(final, "USER").map((l) => l.slice(5).trim().split(":")[0])
    expect(users.length).toBeGreaterThan(0)
    expect(["root", "0"]).not.toContain(users.at(-1))
  })

  it("has tini as PID 1, forwarding SIGTERM to node", () => {
    expect(instruction(final, "ENTRYPOINT")).toEqual([`ENTRYPOINT ["/usr/bin/tini", "--"]`])
    expect(instruction(final, "RUN").join(" ")).toMatch(/apt-get install .*\btini\b/)
    expect(final.lines.join("\n")).toMatch(command)
  })

  it("runs node with the memory settings of `npm start` (two malloc arenas, a small young generation)", () => {
    const env = instruction(final, "ENV").join(" ")
    expect(env).toMatch(/\bMALLOC_ARENA_MAX=2\b/)
    expect(env).toMatch(/\bMALLOC_TRIM_THRESHOLD_=131072\b/)
    expect(final.lines.join("\n")).toMatch(/CMD \["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", /)
  })

  it("has a HEALTHCHECK that needs no curl", () => {
    const checks = instruction(final, "HEALTHCHECK")
    expect(checks).toHaveLength(1)
    expect(checks[0]).toContain("/health")
    expect(checks[0]).toContain(`process.env.${portVariable}||${port}`)
    expect(checks[0]).toMatch(/CMD \["node", "-e"/)
    expect(checks[0]).not.toMatch(/curl|wget/)
  })
})

describe(".dockerignore", () => {
  it("keeps secrets, data and dev files out of the build context", () => {
    const rules = Fs.readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim())
    expect(rules).toContain("*") // allow-list
    for (const kept of ["!package.json", "!package-lock.json", "!src", "!bin", "!nbp"]) expect(rules).toContain(kept)
    for (const never of ["!node_modules", "!clients.json", "!docker-compose.yml", "!test", "!data"]) {
      expect(rules).not.toContain(never)
    }
  })
})
