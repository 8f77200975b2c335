/**
 * Files that ship with the code (dashboard assets, fonts, the compose template, package.json).
 * The build bundles every module into `dist/`, so `import.meta.url` of a bundled module is the
 * bundle's, not the source file's: a path relative to the calling module would break there.
 * Instead every such file is named by its path relative to `src/`; the build copies it to the
 * same path under `dist/`. From source this module is `src/platform/Assets.ts`; in the build its
 * code is inside a bundle directly in `dist/` or in a shared chunk in `dist/chunks/`: `codeRoot` is
 * `src/` or `dist/` either way.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** `src/` when running from source, `dist/` when running the build. */
const here = Path.dirname(fileURLToPath(import.meta.url))
export const codeRoot: string = Path.basename(here) === "platform" || Path.basename(here) === "chunks" ? Path.dirname(here) : here

/** The path of a shipped file, given relative to `src/` (e.g. `dashboard/assets/dashboard.js`). */
export const assetPath = (relative: string): string => Path.join(codeRoot, relative)

/**
 * A file at the repository root (the compose template, package.json): the build copies the
 * ones it needs into `dist/`; from source, and for package.json, it is one level up.
 */
export const rootFilePath = (name: string): string => {
  const inCode = Path.join(codeRoot, name)
  return Fs.existsSync(inCode) ? inCode : Path.join(codeRoot, "..", name)
}
