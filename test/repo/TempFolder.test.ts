/**
 * The suite's temporary-folder check (test/support/tempCheck.ts, a vitest globalSetup) fails when
 * something is left behind, and every test file runs inside the suite's own folder.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import setup from "../support/tempCheck.js"
import { removeTempDirs, tempDir } from "../support/tmp.js"

describe("the temporary folder", () => {
  it("is the suite's own, not the machine's", () => {
    expect(Path.basename(Os.tmpdir())).toMatch(/^mai-usage-suite-/)
  })

  it("fails the suite when a test leaves something in it, and passes when it is empty", () => {
    const outer = process.env.TMPDIR
    const teardown = setup()
    const suiteDir = process.env.TMPDIR!
    try {
      expect(suiteDir).not.toBe(outer)
      Fs.mkdirSync(Path.join(suiteDir, "mai-usage-test-leaked"))
    } finally {
      expect(() => teardown()).toThrow(/left 1 entry in the temporary folder: mai-usage-test-leaked/)
    }
    expect(process.env.TMPDIR).toBe(outer)
    expect(Fs.existsSync(suiteDir)).toBe(false)

    const clean = setup()
    expect(() => clean()).not.toThrow()
  })

  it("tempDir() folders are removed after their file", () => {
    const dir = tempDir()
    Fs.writeFileSync(Path.join(dir, "x.db"), "x")
    removeTempDirs()
    expect(Fs.existsSync(dir)).toBe(false)
  })
})
