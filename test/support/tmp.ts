/**
 * Temporary folders for tests. Each one is removed after its test file (`removeTempDirs`, run by
 * the setup file `test/support/cleanupTemp.ts`), or earlier by whoever calls `removeTempDir`.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const made = new Set<string>()

export const tempDir = (prefix = "mai-usage-test-"): string => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))
  made.add(dir)
  return dir
}

export const removeTempDir = (dir: string): void => {
  Fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
  made.delete(dir)
}

export const removeTempDirs = (): void => {
  for (const dir of [...made]) removeTempDir(dir)
}
