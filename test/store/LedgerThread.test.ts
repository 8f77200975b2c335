/**
 * The ledger's writer thread: a bounded hand-off (past it, 503 with Retry-After at once, nothing
 * stored of that delivery), and a thread that dies mid-load is replaced without losing anything it
 * acknowledged.
 */
import Sqlite from "better-sqlite3"
import { Effect, Exit, ManagedRuntime, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as Ledger from "../../src/store/Ledger.js"
import { openWriter, type WriterOptions } from "../../src/store/LedgerWriter.js"
import { postWebhook, startApp, tempDir } from "../support/app.js"
import { delivery } from "../support/otlp.js"
import { usageEvent } from "../support/usageEvent.js"

const dirs: Array<string> = []
afterAll(() => {
  for (const d of dirs) Fs.rmSync(d, { recursive: true, force: true })
})

const storedIds = (file: string, prefix: string): Set<string> => {
  const db = new Sqlite(file, { readonly: true })
  try {
    const rows = db.prepare("SELECT generation_id FROM ledger_events WHERE generation_id LIKE ?").all(`${prefix}%`) as Array<{ generation_id: string }>
    return new Set(rows.map((r) => r.generation_id))
  } finally {
    db.close()
  }
}

/**
 * A ledger in a temporary folder, its tables made by the ledger's own migrations (with one event,
 * `<prefix>first`), and a writer opened on it in a scope the test closes.
 */
const writerOnFreshLedger = async (prefix: string, options: WriterOptions) => {
  const dir = tempDir("mai-ledger-thread-")
  dirs.push(dir)
  const file = Path.join(dir, "ledger.db")
  const migrate = ManagedRuntime.make(Ledger.layer(file))
  await migrate.runPromise(Effect.flatMap(Ledger.Ledger, (l) => l.record([usageEvent({ generationId: `${prefix}first` })])))
  await migrate.dispose()
  const scope = Effect.runSync(Scope.make())
  const writer = await Effect.runPromise(Scope.extend(openWriter(file, "full", options), scope))
  return { file, scope, writer }
}

describe("the hand-off to the writer thread is bounded", () => {
  it("past LEDGER_QUEUE_LIMIT a delivery gets 503 with Retry-After at once and nothing of it is stored; the waiting ones are stored", async () => {
    const app = await startApp({ LEDGER_QUEUE_LIMIT: "2" })
    dirs.push(app.dataDir)
    const file = Path.join(app.dataDir, "usage_ledger.db")
    try {
      // Make sure the tables exist and the thread runs, then hold the write lock from another
      // connection: the thread's commits wait (retried, up to 5 s) with both deliveries in hand.
      expect((await postWebhook(app.url, delivery({ generationId: "gen-q-warm" }))).status).toBe(200)
      const holder = new Sqlite(file)
      holder.exec("BEGIN IMMEDIATE")
      const first = postWebhook(app.url, delivery({ generationId: "gen-q-1" }))
      const second = postWebhook(app.url, delivery({ generationId: "gen-q-2" }))
      await new Promise((r) => setTimeout(r, 300))
      const third = await postWebhook(app.url, delivery({ generationId: "gen-q-3" }))
      expect(third.status).toBe(503)
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0)
      expect(JSON.stringify(await third.json())).toMatch(/behind.*retry/)
      holder.exec("ROLLBACK")
      holder.close()
      expect((await first).status).toBe(200)
      expect((await second).status).toBe(200)
      expect(storedIds(file, "gen-q-")).toEqual(new Set(["gen-q-warm", "gen-q-1", "gen-q-2"]))
      // the queue drained: the refused one is taken when sent again
      expect((await postWebhook(app.url, delivery({ generationId: "gen-q-3" }))).status).toBe(200)
      expect(storedIds(file, "gen-q-").has("gen-q-3")).toBe(true)
    } finally {
      await app.close()
    }
  })
})

describe("a writer thread that dies", () => {
  it("is restarted; every delivery it acknowledged is stored, the unanswered ones fail (retry) and are never half-stored", async () => {
    const { file, scope, writer } = await writerOnFreshLedger("gen-t-", {})
    try {
      const acked: Array<string> = []
      const failed: Array<string> = []
      const threadIds = new Set<number>()
      const one = (i: number) =>
        Effect.runPromise(Effect.exit(writer.record([usageEvent({ generationId: `gen-t-${i}`, clientOrgId: "acme" })]))).then((exit) => {
          if (Exit.isSuccess(exit)) acked.push(`gen-t-${i}`)
          else failed.push(`gen-t-${i}`)
        })
      // the thread running before the load
      await Effect.runPromise(writer.record([usageEvent({ generationId: "gen-t-warm", clientOrgId: "acme" })]))
      let killed = false
      const inFlight: Array<Promise<void>> = []
      for (let i = 0; i < 3000; i++) {
        inFlight.push(one(i))
        if (i % 50 === 49) {
          // a little of the load at a time, so commits happen all along
          await new Promise((r) => setTimeout(r, 2))
          const t = writer.thread.thread()
          if (t !== undefined) threadIds.add(t.threadId)
          if (!killed && acked.length > 300 && t !== undefined) {
            killed = true
            await t.terminate()
          }
        }
      }
      await Promise.all(inFlight)
      const after = writer.thread.thread()
      if (after !== undefined) threadIds.add(after.threadId)
      expect(killed).toBe(true)
      expect(threadIds.size).toBeGreaterThanOrEqual(2)
      expect(acked.length + failed.length).toBe(3000)
      expect(acked.length).toBeGreaterThan(300)
      // every acknowledged delivery is in the ledger
      const stored = storedIds(file, "gen-t-")
      for (const id of acked) expect(stored.has(id)).toBe(true)
      // and the thread that replaced it takes new deliveries
      const again = await Effect.runPromise(writer.record([usageEvent({ generationId: "gen-t-after", clientOrgId: "acme" })]))
      expect(again).toEqual({ accepted: 1, duplicates: 0, conflicts: 0 })
      // a failed one sent again is stored once (a duplicate if the dead thread had committed it)
      if (failed.length > 0) {
        const retried = await Effect.runPromise(writer.record([usageEvent({ generationId: failed[0], clientOrgId: "acme" })]))
        expect(retried.accepted + retried.duplicates).toBe(1)
      }
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })
})

describe("an idle writer thread", () => {
  it("ends after idleMs with nothing to do and the next delivery starts another; nothing is lost across the change", async () => {
    let idleEnds = 0
    const { file, scope, writer } = await writerOnFreshLedger("gen-i-", { idleMs: 150, onIdleEnd: () => idleEnds++ })
    const record = (id: string) => Effect.runPromise(writer.record([usageEvent({ generationId: id, clientOrgId: "acme" })]))
    try {
      expect(await record("gen-i-1")).toEqual({ accepted: 1, duplicates: 0, conflicts: 0 })
      const first = writer.thread.thread()
      expect(first).toBeDefined()
      const exited = new Promise<number>((resolve) => first!.once("exit", resolve))
      // still busy: deliveries keep coming within idleMs, the same thread takes them
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 60))
        expect(await record(`gen-i-busy-${i}`)).toEqual({ accepted: 1, duplicates: 0, conflicts: 0 })
        expect(writer.thread.thread()).toBe(first)
      }
      // then nothing for longer than idleMs: the thread ends and none is running
      expect(await exited).toBe(0)
      expect(writer.thread.thread()).toBeUndefined()
      // and the process is told it has gone idle (serve gives memory back then), once
      await new Promise((r) => setTimeout(r, 20))
      expect(idleEnds).toBe(1)
      // the next delivery starts a new thread; a repeat of one the old thread stored is a duplicate
      expect(await record("gen-i-2")).toEqual({ accepted: 1, duplicates: 0, conflicts: 0 })
      expect(await record("gen-i-1")).toEqual({ accepted: 0, duplicates: 1, conflicts: 0 })
      const second = writer.thread.thread()
      expect(second).toBeDefined()
      expect(second!.threadId).not.toBe(first!.threadId)
      // around the second thread's own end, a burst: every delivery is taken, none fails
      await new Promise((r) => setTimeout(r, 150))
      const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => record(`gen-i-burst-${i}`)))
      expect(burst.every((r) => r.accepted === 1)).toBe(true)
      expect(storedIds(file, "gen-i-").size).toBe(1 + 1 + 4 + 1 + 50)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })
})
