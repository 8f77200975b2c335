import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"

/**
 * The README and docs describe the code as it is: every source path they name exists, whether
 * written in full (`src/store/Ledger.ts`) or below src/ (`store/Ledger.ts`).
 */
const root = Path.resolve(new URL("../..", import.meta.url).pathname)
const docs = ["README.md", ...Fs.readdirSync(Path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]

const named = (text: string): Array<string> => [
  ...[...text.matchAll(/\b((?:src|nbp|test|bench|scripts|docker)\/[\w./-]+\.(?:ts|js|mjs|json|sh))\b/g)].map((m) => m[1]),
  ...[...text.matchAll(/`([a-z]+\/[A-Za-z]+\.(?:ts|js))`/g)].map((m) => m[1])
]

const exists = (p: string) => Fs.existsSync(Path.join(root, p)) || Fs.existsSync(Path.join(root, "src", p))

describe("docs name files that exist", () => {
  it.each(docs)("%s", (doc) => {
    const missing = named(Fs.readFileSync(Path.join(root, doc), "utf8")).filter((p) => !exists(p))
    expect(missing).toEqual([])
  })

  it("catches a path that does not exist", () => {
    expect(named("see `store/Gone.ts` and src/batch/Nope.ts").filter((p) => !exists(p))).toEqual(["src/batch/Nope.ts", "store/Gone.ts"])
  })
})
