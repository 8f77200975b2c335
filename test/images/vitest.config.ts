import { defineConfig } from "vitest/config"

/**
 * `npm run test:images`: builds and runs the images with Podman (test/images/images.podman.ts).
 * Separate from `npm test` (its files do not match `*.test.ts`): a cold run builds a Debian base
 * and compiles better-sqlite3, which takes minutes.
 */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/images/**/*.podman.ts"],
    testTimeout: 10 * 60_000,
    hookTimeout: 60 * 60_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["verbose"]
  }
})
