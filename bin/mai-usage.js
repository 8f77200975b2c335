#!/usr/bin/env node
// The package's `bin`: runs the compiled CLI (`npm run build`, which `npm ci` runs through `prepare`).
import { existsSync } from "node:fs"
const entry = new URL("../dist/bin.js", import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write("mai-usage: dist/bin.js is missing; run `npm run build` (or `npm ci`) first\n")
  process.exit(1)
}
await import(entry.href)
