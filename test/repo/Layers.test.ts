/**
 * Imports point down the layers, and folders never import each other in a loop:
 *
 *   domain (pure) ← api (the HTTP contract), platform ← store, directory ← rates, ingest, billing,
 *   deploy ← reporting, openrouter (reconciliation), alerts ← http, dashboard, cli, console ← App.ts, bin.ts
 *
 * Folders of one layer may import each other as long as no cycle forms. The contract (`api/`)
 * imports only `domain/` and libraries, so another process builds a typed client from it.
 */
import { describe, expect, it } from "vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

const SRC = Path.resolve("src")

export const LAYERS: ReadonlyArray<ReadonlyArray<string>> = [
  ["domain"],
  ["api", "platform"],
  ["store", "directory"],
  ["rates", "ingest", "billing", "deploy"],
  ["reporting", "openrouter", "alerts"],
  ["http", "dashboard", "cli", "console"],
  ["."]
]

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)))

/** Folders that may import nothing of ours but these (beyond themselves). */
const ONLY: Record<string, ReadonlyArray<string>> = { domain: [], api: ["domain"], platform: ["domain"] }

const sources = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = Path.join(dir, e.name)
    if (e.isDirectory()) return e.name === "assets" ? [] : sources(p)
    return e.name.endsWith(".ts") ? [p] : []
  })

const folderOf = (file: string) => {
  const rel = Path.relative(SRC, file).split(Path.sep)
  return rel.length === 1 ? "." : rel[0]
}

/** Every relative import (static, dynamic, type-only) of every source file, as folder → folder. */
export const importEdges = () =>
  sources(SRC).flatMap((file) => {
    const text = Fs.readFileSync(file, "utf8")
    return [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => ({
      file: Path.relative(".", file),
      from: folderOf(file),
      to: folderOf(Path.resolve(Path.dirname(file), m[1]))
    }))
  })

describe("the layers", () => {
  const edges = importEdges()

  it("every folder of src/ has a layer", () => {
    const folders = new Set(edges.flatMap((e) => [e.from, e.to]))
    for (const f of Fs.readdirSync(SRC, { withFileTypes: true })) if (f.isDirectory()) folders.add(f.name)
    expect([...folders].filter((f) => !rank.has(f))).toEqual([])
  })

  it("no import points up a layer", () => {
    const up = edges.filter((e) => e.from !== e.to && rank.get(e.to)! > rank.get(e.from)!)
    expect(up.map((e) => `${e.file} → ${e.to}/`)).toEqual([])
  })

  it("the contract, the domain and the platform import only what is below them", () => {
    const out = edges.filter((e) => e.from in ONLY && e.to !== e.from && !ONLY[e.from].includes(e.to))
    expect(out.map((e) => `${e.file} → ${e.to}/`)).toEqual([])
  })

  it("no two folders import each other, directly or round a loop", () => {
    const graph = new Map<string, Set<string>>()
    for (const e of edges) if (e.from !== e.to) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to))
    const cycles: Array<string> = []
    const state = new Map<string, "open" | "done">()
    const visit = (n: string, path: Array<string>) => {
      if (state.get(n) === "done") return
      if (state.get(n) === "open") return void cycles.push([...path.slice(path.indexOf(n)), n].join(" → "))
      state.set(n, "open")
      for (const m of graph.get(n) ?? []) visit(m, [...path, n])
      state.set(n, "done")
    }
    for (const n of graph.keys()) visit(n, [])
    expect(cycles).toEqual([])
  })

  it("the console talks to the clients only through the contract: nothing of billing, the stores or reporting", () => {
    const allowed = ["console", "domain", "api", "platform", "http", "dashboard", "deploy"]
    const out = edges.filter((e) => e.from === "console" && !allowed.includes(e.to))
    expect(out.map((e) => `${e.file} → ${e.to}/`)).toEqual([])
    expect(edges.some((e) => e.from === "console" && e.to === "api")).toBe(true)
  })

  it("catches an upward import (the check itself works)", () => {
    const fake = [{ file: "src/store/X.ts", from: "store", to: "billing" }]
    expect(fake.filter((e) => rank.get(e.to)! > rank.get(e.from)!)).toHaveLength(1)
  })
})
