/**
 * vitest globalSetup: the whole suite runs with its own temporary folder (TMPDIR, which
 * `os.tmpdir()` and every child process read), and fails if anything is left in it afterwards.
 * A folder of its own rather than a before/after listing of the machine's /tmp, so that other
 * programs writing there at the same time are not mistaken for leaks of this suite.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/**
 * What is left, but for `tsx-<uid>`: tsx's compile cache, which the child processes that run the
 * CLI through tsx keep in the temporary folder on purpose (it is reused, not leaked, on a machine).
 */
export const leftovers = (dir: string): Array<string> =>
  Fs.existsSync(dir) ? Fs.readdirSync(dir).filter((name) => !/^tsx-\d+$/.test(name)).sort() : []

export default function setup() {
  const outer = Os.tmpdir()
  const dir = Fs.mkdtempSync(Path.join(outer, "mai-usage-suite-"))
  const previous = process.env.TMPDIR
  process.env.TMPDIR = dir
  return () => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    const left = leftovers(dir)
    Fs.rmSync(dir, { recursive: true, force: true })
    if (left.length > 0) {
      throw new Error(
        `the test suite left ${left.length} entr${left.length === 1 ? "y" : "ies"} in the temporary folder: ` +
          `${left.slice(0, 20).join(", ")}${left.length > 20 ? ", …" : ""}. Every test must remove what it creates ` +
          `(tempDir() from test/support/tmp.ts does it after each file).`
      )
    }
  }
}
