/**
 * Running `mai-usage compose render` as the CLI does, and checking its output with Debian's
 * `docker-compose` itself: shared by the deploy tests.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { composeCommand } from "../../src/cli/ComposeCommand.js"
import { ComposeInputError } from "../../src/deploy/errors.js"
import { allSecrets, tempDir, writeJson } from "./fixtures.js"

const cli = Command.run(composeCommand, { name: "mai-usage", version: "test" })

/** Runs `mai-usage compose <args>` the way bin.ts does (argv[0..1] are node and the script). */
export const compose = (...args: Array<string>) => cli(["node", "mai-usage", ...args]).pipe(Effect.provide(NodeContext.layer))

/**
 * `docker-compose` must be installed (Debian package `docker-compose`, installed by .ci/run).
 * Without it this fails: a deployment check that silently skips proves nothing.
 */
const dockerCompose = (() => {
  const probe = spawnSync("docker-compose", ["version"], { encoding: "utf8" })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      "docker-compose is not installed, so the rendered compose file cannot be checked: apt-get install -y docker-compose"
    )
  }
  return "docker-compose"
})()

/** Runs `docker-compose -f file config` in the file's directory with a bare environment. */
export const composeConfig = (file: string, ...extra: Array<string>) => {
  const result = spawnSync(dockerCompose, ["-f", Path.basename(file), "config", ...extra], {
    cwd: Path.dirname(file),
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: Path.dirname(file) }
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The normalised config as data, parsed by the PyYAML that docker-compose itself runs on. */
export const parsedConfig = (file: string): any => {
  const config = composeConfig(file)
  expect(config.stderr + `\n(exit ${config.status})`).toMatch(/\(exit 0\)$/)
  const json = execFileSync("python3", ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"], {
    input: config.stdout,
    encoding: "utf8"
  })
  return JSON.parse(json)
}

/** Renders `clients` (an object, or the text of a file) with the CLI into a file of a new folder. */
export const render = (clients: unknown) =>
  Effect.gen(function*() {
    const dir = tempDir()
    const clientsFile = writeJson(dir, clients)
    const out = Path.join(dir, "docker-compose.yml")
    yield* compose("render", "--clients", clientsFile, "--out", out)
    return { dir, out, text: Fs.readFileSync(out, "utf8") }
  })

/**
 * Renders `clients`, expecting a refusal: one line, naming the file, without any secret of the
 * fixtures, no file written. Returns the reason after "<file>: ".
 */
export const refusal = (clients: unknown) =>
  Effect.gen(function*() {
    const dir = tempDir()
    const clientsFile = writeJson(dir, clients)
    const out = Path.join(dir, "docker-compose.yml")
    const error = yield* Effect.flip(compose("render", "--clients", clientsFile, "--out", out))
    expect(error).toBeInstanceOf(ComposeInputError)
    const message = (error as ComposeInputError).message
    expect(message).not.toContain("\n")
    expect(message.startsWith(`${clientsFile}: `)).toBe(true)
    for (const secret of allSecrets) expect(message).not.toContain(secret)
    expect(Fs.existsSync(out)).toBe(false)
    return message.slice(clientsFile.length + 2)
  })

