import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"

/**
 * A fresh clone with nothing beside it must pass: no source, test, benchmark, script or doc
 * may refer to a path outside the repository (e.g. a `shared/` folder next to the checkout).
 */
const root = Path.resolve(new URL("../..", import.meta.url).pathname)
const skip = new Set(["node_modules", ".git", "dist", "data", "test-output", "coverage"])
const exts = /\.(ts|js|mjs|cjs|json|sh|yml|yaml|md|html|css)$|^run$|Dockerfile/

const files = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (skip.has(e.name)) return []
    const p = Path.join(dir, e.name)
    if (e.isDirectory()) return files(p)
    return exts.test(e.name) && e.name !== "package-lock.json" ? [p] : []
  })

/** Relative paths in the text that climb out of the file's folder, resolved against it. */
const escapes = (file: string): Array<string> => {
  const text = Fs.readFileSync(file, "utf8")
  const found: Array<string> = []
  for (const m of text.matchAll(/((?:\.\.\/)+)([\w.@-]+)/g)) {
    const target = Path.resolve(Path.dirname(file), m[1] + m[2])
    if (target !== root && !target.startsWith(root + Path.sep)) found.push(m[0])
  }
  if (/\bshared\/fixtures\b/.test(text) && !/test\/fixtures/.test(text.match(/[\w/.]*shared\/fixtures/)?.[0] ?? "")) {
    found.push("shared/fixtures")
  }
  return found
}

describe("the repository stands alone", () => {
  it("no file refers to a path outside the repository", () => {
    const offenders = files(root)
      .filter((f) => f !== new URL(import.meta.url).pathname)
      .map((f) => ({ file: Path.relative(root, f), refs: escapes(f) }))
      .filter((o) => o.refs.length > 0)
    expect(offenders).toEqual([])
  })

  it("every fixture the tests name exists inside the repository", () => {
    for (const f of [
      "nbp/usd-table-a-2016-2025.csv",
      "openrouter/delivery-privacy-mode.json",
      "openrouter/delivery-full.json",
      "openrouter/delivery-cached.json",
      "openrouter/delivery-error-no-cost.json",
      "openrouter/connection-test.json",
      "openrouter/connection-test-empty.json",
      "ksef/schemat_FA(3)_v1-0E.xsd",
      "ksef/StrukturyDanych_v10-0E.xsd",
      "ksef/ElementarneTypyDanych_v10-0E.xsd",
      "ksef/KodyKrajow_v10-0E.xsd",
      "ksef/catalog.xml"
    ]) {
      expect(Fs.existsSync(Path.join(root, "test/fixtures", f)), f).toBe(true)
    }
  })

  it("docs state rules themselves instead of citing a SPEC file the repository lacks", () => {
    const cites = files(root)
      .filter((f) => f !== new URL(import.meta.url).pathname)
      // A bare "§10" cites the spec too.
      .filter((f) => /SPEC(\.md)?\s*§|SPEC\.md|§\s?\d/.test(Fs.readFileSync(f, "utf8")))
      .map((f) => Path.relative(root, f))
    expect(cites).toEqual([])
  })
})
