/**
 * The summary DB's two owners apply their own migrations, each recorded apart; a database made
 * before the split (migrations 1–9 recorded in `effect_sql_migrations`) opens without applying
 * anything twice, and gets each owner's later migrations once.
 */
import { Effect, Layer } from "effect"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { billingMigrations } from "../../src/billing/migrations.js"
import { SummaryRepo } from "../../src/billing/SummaryRepo.js"
import { openRouterMigrations } from "../../src/openrouter/migrations.js"
import { OpenRouterRepo } from "../../src/openrouter/OpenRouterRepo.js"
import { testLayer } from "../../src/platform/Config.js"
import { sqliteLayer } from "../../src/platform/Sqlite.js"
import * as SummaryDb from "../../src/store/SummaryDb.js"
import { tempDir } from "../support/app.js"

const opened = (file: string) =>
  Layer.mergeAll(SummaryRepo.Default, OpenRouterRepo.Default).pipe(
    Layer.provideMerge(SummaryDb.layer(file)),
    Layer.provideMerge(testLayer())
  )

const records = Effect.gen(function*() {
  const sql = yield* SummaryDb.SummaryDb
  const ids = (table: string) =>
    Effect.map(sql.unsafe<{ migration_id: number }>(`SELECT migration_id FROM ${table} ORDER BY migration_id`), (rows) => rows.map((r) => Number(r.migration_id)))
  return { billing: yield* ids("effect_sql_migrations"), reconciliation: yield* ids("reconciliation_migrations") }
})

const useBoth = Effect.gen(function*() {
  const repo = yield* SummaryRepo
  const openRouter = yield* OpenRouterRepo
  yield* repo.check
  yield* openRouter.setState("probe", 1)
  return yield* openRouter.getState("probe")
})

describe("the summary DB's migrations", () => {
  it("a new file: billing's 1–6, 10, 11 and reconciliation's 7–10, each in its own record", async () => {
    const file = Path.join(tempDir(), "usage_summary.db")
    const result = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(opened(file))
      return yield* Effect.provide(Effect.zip(records, useBoth), ctx)
    })))
    expect(result[0]).toEqual({ billing: [1, 2, 3, 4, 5, 6, 10, 11, 12], reconciliation: [7, 8, 9, 10] })
    expect(result[1]).toBe(1)
  })

  it("a file from before the split (all nine in one record) opens as it is: nothing applied twice", async () => {
    const file = Path.join(tempDir(), "usage_summary.db")
    // What the earlier code did: one migrator over both owners' migrations.
    const earlier = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => k < "0010")) as typeof billingMigrations
    await Effect.runPromise(Effect.scoped(Layer.build(sqliteLayer(file, { ...earlier(billingMigrations), ...earlier(openRouterMigrations) }))))
    const twice = async () =>
      Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const ctx = yield* Layer.build(opened(file))
        return yield* Effect.provide(Effect.zip(records, useBoth), ctx)
      })))
    const first = await twice()
    // Each owner's later migrations (10, and billing's 11 and 12) applied once, in its own record.
    expect(first[0]).toEqual({ billing: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], reconciliation: [7, 8, 9, 10] })
    expect(first[1]).toBe(1)
    expect((await twice())[0]).toEqual(first[0])
  })
})
