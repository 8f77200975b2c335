/**
 * vitest global set-up: the process tests run the production build (`dist/`), so make sure it
 * is there and not older than the sources. `npm test` has just built it (nothing to do then);
 * running one test file with `npx vitest run …` after an edit rebuilds first.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(new URL("../..", import.meta.url).pathname)

const newest = (dir: string): number => {
  let t = 0
  for (const e of Fs.readdirSync(dir, { withFileTypes: true })) {
    const p = Path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : Fs.statSync(p).mtimeMs)
  }
  return t
}

export default function setup() {
  const built = Path.join(root, "dist", "bin.js")
  const sources = Math.max(newest(Path.join(root, "src")), newest(Path.join(root, "nbp")), Fs.statSync(Path.join(root, "package.json")).mtimeMs)
  if (Fs.existsSync(built) && Fs.statSync(built).mtimeMs >= sources) return
  execFileSync(process.execPath, [Path.join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" })
}
