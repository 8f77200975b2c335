import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"],
    // The suite gets a temporary folder of its own and fails if anything is left in it.
    // The process tests run the production build: it is (re)built first when older than the sources.
    globalSetup: ["test/support/buildOnce.ts", "test/support/tempCheck.ts"],
    setupFiles: ["test/support/cleanupTemp.ts"]
  }
})
