/**
 * `/ready` tells the truth about writing: on a real full disk (a small tmpfs mounted by the test)
 * every delivery gets 503 and `/ready` says the ledger is not writable, naming why; once space is
 * freed a delivery is stored again and `/ready` recovers. Nothing acknowledged is lost. Mounting
 * needs root: where it is refused the test says so loudly and is skipped.
 */
import { DateTime, Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { asAdmin, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { Ledger } from "../../src/store/Ledger.js"
import { deliveryOf } from "../support/otlp.js"

const mountPoint = tempDir()
const mounted = (() => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mountPoint], { stdio: "pipe" })
    return true
  } catch (e) {
    console.warn(`SKIPPED: test/store/DiskFull.test.ts cannot mount a tmpfs here (${String((e as Error).message).split("\n")[0]})`)
    return false
  }
})()

let app: TestApp | undefined
const filler = Path.join(mountPoint, "filler")

beforeAll(async () => {
  if (mounted) app = await startApp({ DATA_DIR: mountPoint })
})
afterAll(async () => {
  await app?.close()
  if (mounted) execFileSync("umount", [mountPoint])
})

const ready = async () => {
  const res = await fetch(`${app!.url}/ready`, asAdmin)
  return { status: res.status, body: (await res.json()) as any }
}

let n = 0
const deliver = () => postWebhook(app!.url, deliveryOf({ id: `gen-full-${++n}`, at: "2025-11-12T10:00:00.000Z", user: "u".repeat(400), model: "m", cost: "0.1" }))

describe.skipIf(!mounted)("a full disk", () => {
  it("every delivery gets 503, /ready says the ledger is not writable; freed, both recover", async () => {
    expect((await deliver()).status).toBe(200)
    expect((await ready()).status).toBe(200)
    // Fill what is left of the 4 MiB.
    const fd = Fs.openSync(filler, "w")
    try {
      const block = Buffer.alloc(64 * 1024, 1)
      for (;;) Fs.writeSync(fd, block)
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC")
    } finally {
      Fs.closeSync(fd)
    }
    let refused = 0
    const accepted: Array<string> = []
    for (let i = 0; i < 200 && refused < 3; i++) {
      const res = await deliver()
      if (res.status === 503) refused++
      else if (res.status === 200) accepted.push(`gen-full-${n}`)
      else throw new Error(`unexpected ${res.status}`)
    }
    expect(refused).toBe(3)
    const down = await ready()
    expect(down.status).toBe(503)
    expect(down.body.checks.ledger.ok).toBe(false)
    expect(down.body.checks.ledger.error).toMatch(/full|SQLITE_FULL|disk/i)

    Fs.rmSync(filler)
    expect((await deliver()).status).toBe(200)
    expect((await ready()).status).toBe(200)
    // Every delivery answered 200 is in the ledger.
    const rows = await app!.runtime.runPromise(Effect.flatMap(Ledger, (l) => l.aggregate({
      clientOrgId: "default",
      start: DateTime.unsafeMake("2025-11-12T00:00:00Z"),
      end: DateTime.unsafeMake("2025-11-13T00:00:00Z")
    })))
    expect(rows.reduce((s, r) => s + r.requests, 0)).toBe(accepted.length + 2)
  }, 60_000)

  it("a failed write is reported until a write succeeds, even with no delivery in between", async () => {
    const fd = Fs.openSync(filler, "w")
    try {
      const block = Buffer.alloc(64 * 1024, 1)
      for (;;) Fs.writeSync(fd, block)
    } catch {
      // full
    } finally {
      Fs.closeSync(fd)
    }
    for (let i = 0; i < 200 && (await deliver()).status !== 503; i++) {
      // until the disk refuses a commit
    }
    expect((await ready()).status).toBe(503)
    Fs.rmSync(filler)
    // /ready's own probe commits a write: it recovers without a delivery.
    expect((await ready()).status).toBe(200)
  }, 60_000)
})
