/**
 * One owner per table: only the folder that owns a table names it in SQL. Others ask the owner's
 * services. The owners are found from the migrations (`CREATE TABLE`), so a new table has an owner
 * from the start.
 */
import { describe, expect, it } from "vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

const SRC = Path.resolve("src")

const sources = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = Path.join(dir, e.name)
    if (e.isDirectory()) return e.name === "assets" ? [] : sources(p)
    return e.name.endsWith(".ts") ? [p] : []
  })

const folderOf = (file: string) => Path.relative(SRC, file).split(Path.sep)[0]

/** SQL only: template literals and strings, never comments (which may name a table in prose). */
const sqlTextOf = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:])\/\/.*$/gm, "$1")

/** Table names a text uses in SQL (FROM, JOIN, INTO, UPDATE, TABLE, DELETE FROM). */
export const tablesNamed = (text: string): Set<string> =>
  new Set([...sqlTextOf(text).matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?)\s+"?([a-z_][a-z0-9_]*)"?/g)].map((m) => m[1]))

describe("table owners", () => {
  const files = sources(SRC).map((f) => ({ file: Path.relative(".", f), folder: folderOf(f), text: Fs.readFileSync(f, "utf8") }))
  const owner = new Map<string, string>()
  for (const f of files) {
    for (const m of sqlTextOf(f.text).matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/g)) owner.set(m[1], f.folder)
  }

  it("finds the owners: billing, reconciliation (openrouter/) and the ledger (store/)", () => {
    expect(owner.get("daily_usage")).toBe("billing")
    expect(owner.get("batch_runs")).toBe("billing")
    expect(owner.get("markup_history")).toBe("billing")
    expect(owner.get("reconciliations")).toBe("openrouter")
    expect(owner.get("ledger_events")).toBe("store")
  })

  it("no table is named in SQL outside its owner's folder", () => {
    const strays = files.flatMap((f) =>
      [...tablesNamed(f.text)].filter((t) => owner.has(t) && owner.get(t) !== f.folder).map((t) => `${f.file} names ${t} (owned by ${owner.get(t)}/)`)
    )
    expect(strays).toEqual([])
  })

  it("would see a stray (the check itself works)", () => {
    expect([...tablesNamed("sql`SELECT usage_date FROM daily_usage WHERE x = 1`")]).toEqual(["daily_usage"])
    expect([...tablesNamed("// the batch writes daily_usage FROM time to time\nconst a = 1")]).toEqual([])
  })
})
