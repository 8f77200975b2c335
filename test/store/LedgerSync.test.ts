import Sqlite from "better-sqlite3"
import { Effect, Either, Layer, ManagedRuntime } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as Config from "../../src/platform/Config.js"
import * as Ledger from "../../src/store/Ledger.js"
import { configureWriter } from "../../src/store/LedgerCommit.js"
import { tempDir } from "../support/app.js"
import { usageEvent } from "../support/usageEvent.js"

const event = (generationId: string, costNusd = 1_000n) => usageEvent({ generationId, costNusd, clientOrgId: "acme" })

const withLedger = async <A>(sync: Ledger.LedgerSync | undefined, f: (l: Ledger.LedgerShape) => Effect.Effect<A, unknown>) => {
  const dir = tempDir("mai-ledger-sync-")
  const layer = sync === undefined ? Ledger.layer(Path.join(dir, "l.db")) : Ledger.layer(Path.join(dir, "l.db"), sync)
  const runtime = ManagedRuntime.make(layer as Layer.Layer<Ledger.Ledger, unknown>)
  try {
    return await runtime.runPromise(Effect.flatMap(Ledger.Ledger, f))
  } finally {
    await runtime.dispose()
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe("LEDGER_SYNC", () => {
  it("is full unless set: the configuration says so and the ledger's writer runs synchronous=FULL", async () => {
    const settings = await Effect.runPromise(Config.validate({ DATA_DIR: tempDir(), OPENROUTER_WEBHOOK_SECRET: "x".repeat(32), ADMIN_TOKEN: "y".repeat(32) }))
    expect(Either.isRight(settings) && settings.right.ledgerSync).toBe("full")
    expect(await withLedger(undefined, (l) => Effect.succeed(l.sync))).toBe("full")
  })

  it("normal is taken as given (any case) and reaches the writer", async () => {
    const settings = await Effect.runPromise(Config.validate({ DATA_DIR: tempDir(), OPENROUTER_WEBHOOK_SECRET: "x".repeat(32), ADMIN_TOKEN: "y".repeat(32), LEDGER_SYNC: "NORMAL" }))
    expect(Either.isRight(settings) && settings.right.ledgerSync).toBe("normal")
    expect(await withLedger("normal", (l) => Effect.succeed(l.sync))).toBe("normal")
  })

  it("with full, concurrent deliveries share the commit and each is stored once", async () => {
    const results = await withLedger("full", (l) =>
      Effect.all(Array.from({ length: 200 }, (_, i) => l.record([event(`g-${i % 150}`)])), { concurrency: "unbounded" }))
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(150)
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(50)
  })
})

describe("the ledger writer's connection", () => {
  it("keeps a 1 MB page cache, not better-sqlite3's 16 MB (what filled the server's memory under load)", () => {
    const dir = tempDir("mai-ledger-cache-")
    const db = new Sqlite(Path.join(dir, "c.db"))
    try {
      expect(Number(db.pragma("cache_size", { simple: true }))).toBe(-16000) // the build's default, checked
      configureWriter(db, "full", { autoCheckpoint: false })
      expect(Number(db.pragma("cache_size", { simple: true }))).toBe(-1024)
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal")
      expect(Number(db.pragma("wal_autocheckpoint", { simple: true }))).toBe(0)
    } finally {
      db.close()
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
