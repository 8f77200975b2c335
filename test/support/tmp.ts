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

/**
 * A test's folder made reachable by the system users a real server runs as (OpenSMTPD delivers as
 * `nobody`, PostgreSQL runs as `postgres`): the folder readable, and each folder above it up to the
 * temporary folder's parent passable (o+x, never o+r).
 */
export const reachableByServiceUsers = (dir: string): void => {
  Fs.chmodSync(dir, 0o755)
  const stop = Path.dirname(Os.tmpdir())
  for (let d = Path.dirname(dir); d.startsWith(stop) && d !== stop && d !== "/"; d = Path.dirname(d)) {
    const mode = Fs.statSync(d).mode & 0o777
    if ((mode & 0o001) === 0) Fs.chmodSync(d, mode | 0o001)
  }
}
