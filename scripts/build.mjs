#!/usr/bin/env node
/**
 * `npm run build`: bundles the CLI/server (`dist/bin.js`) and the NBP service (`dist/nbp.js`)
 * with esbuild, as ESM for Node, with source maps, and copies every non-TypeScript file under
 * `src/` (dashboard assets, fonts, data) to the same relative path under `dist/`, plus the
 * compose template. Code finds those files through `src/Assets.ts`, which resolves the same
 * relative path from `src/` under vitest and from `dist/` in the build.
 *
 * `--prepare` (the `prepare` script, run by `npm ci`): when esbuild is not installed — a
 * production install with `--omit=dev`, e.g. a Docker stage that copies `dist/` from a build
 * stage — it says so and exits 0 instead of failing the install.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const dist = Path.join(root, "dist")
const prepare = process.argv.includes("--prepare")

let esbuild
try {
  esbuild = await import("esbuild")
} catch {
  if (prepare) {
    const have = Fs.existsSync(Path.join(dist, "bin.js"))
    console.log(`mai-usage: esbuild is not installed (production install); ${have ? "keeping the existing dist/" : "no dist/ built: copy it from a build stage"}`)
    process.exit(0)
  }
  console.error("mai-usage: esbuild is not installed; run `npm ci` (with dev dependencies) first")
  process.exit(1)
}

const pkg = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8"))

// Native add-ons (and pdfkit, which reads its font metrics from files beside its own code)
// cannot be bundled: they stay in node_modules.
const external = ["better-sqlite3", "koffi", "pdfkit", "msgpackr-extract", "@parcel/watcher", "bufferutil", "utf-8-validate"]

Fs.rmSync(dist, { recursive: true, force: true })

/**
 * @effect/platform-node's HTTP server module imports its HTTP client only for `layerTest` (a test
 * client over undici, which mai-usage never uses), but the import alone made every server start
 * load and initialise the undici package (measured: idle RSS 92 → 87 MB without it). In that one
 * import the client is replaced by two inert bindings, so `layerTest` cannot be used from the
 * build; every other import of the client (the InfluxDB writer's, itself loaded on first use) gets
 * the real module.
 */
const serverWithoutTestClient = {
  name: "server-without-test-client",
  setup(build) {
    const importer = Path.join("@effect", "platform-node", "dist", "esm", "internal", "httpServer.js")
    build.onResolve({ filter: /^\.\.\/NodeHttpClient\.js$/ }, (args) =>
      args.importer.endsWith(importer) ? { path: args.path, namespace: "mai-usage-inert" } : undefined)
    build.onLoad({ filter: /.*/, namespace: "mai-usage-inert" }, () => ({
      contents: "export const layerWithoutAgent = undefined\nexport const makeAgentLayer = () => undefined\n",
      loader: "js"
    }))
  }
}

await esbuild.build({
  absWorkingDir: root,
  entryPoints: { bin: "src/bin.ts", nbp: "nbp/main.ts", "ledger-writer": "src/store/LedgerWorker.ts" },
  outdir: dist,
  bundle: true,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  treeShaking: true,
  minifySyntax: true,
  // No comments or indentation: less source text held in memory by V8 (and a comment with one
  // non-ASCII character would make its whole chunk a two-byte string).
  minifyWhitespace: true,
  legalComments: "none",
  external,
  plugins: [serverWithoutTestClient],
  define: { "process.env.MAI_USAGE_BUILD_VERSION": JSON.stringify(pkg.version) },
  // CommonJS dependencies call require() for Node built-ins; ESM output needs one to exist.
  banner: { js: "import { createRequire as __maiCreateRequire } from \"node:module\"; const require = __maiCreateRequire(import.meta.url);" },
  logLevel: "warning"
})

const copyTree = (from, to) => {
  for (const entry of Fs.readdirSync(from, { withFileTypes: true })) {
    const src = Path.join(from, entry.name)
    const dst = Path.join(to, entry.name)
    if (entry.isDirectory()) copyTree(src, dst)
    else if (!/\.(ts|tsx|mts|cts)$/.test(entry.name)) {
      Fs.mkdirSync(to, { recursive: true })
      Fs.copyFileSync(src, dst)
    }
  }
}
copyTree(Path.join(root, "src"), dist)
for (const file of ["docker-compose.template.yml"]) {
  if (Fs.existsSync(Path.join(root, file))) Fs.copyFileSync(Path.join(root, file), Path.join(dist, file))
}
console.log(`mai-usage: built dist/ (bin.js, nbp.js) version ${pkg.version}`)
