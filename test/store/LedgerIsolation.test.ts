import { Effect, Exit, ManagedRuntime } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Ledger from "../../src/store/Ledger.js"
import { tempDir } from "../support/app.js"
import { usageEvent } from "../support/usageEvent.js"

const event = (generationId: string, costNusd = 1_000n) => usageEvent({ generationId, costNusd, clientOrgId: "acme" })

let dir: string
let runtime: ManagedRuntime.ManagedRuntime<Ledger.Ledger, unknown>
beforeAll(() => {
  dir = tempDir("mai-ledger-iso-")
  runtime = ManagedRuntime.make(Ledger.layer(Path.join(dir, "ledger.db")))
})
afterAll(async () => {
  await runtime.dispose()
  Fs.rmSync(dir, { recursive: true, force: true })
})

describe("group commit isolation", () => {
  it("a delivery that fails the shared transaction fails alone; its neighbours in the same commit are stored once", async () => {
    // Deliveries recorded in one turn share one transaction. One of them holds a value SQLite cannot
    // store (a cost beyond 64 bits, which decoding never lets through): the shared transaction fails.
    const outcomes = await runtime.runPromise(Effect.gen(function*() {
      const ledger = yield* Ledger.Ledger
      return yield* Effect.all(
        Array.from({ length: 60 }, (_, i) =>
          Effect.exit(ledger.record(i === 17 ? [event(`gen-iso-${i}`, 2n ** 70n)] : [event(`gen-iso-${i}`), event(`gen-iso-${i}b`)]))
        ),
        { concurrency: "unbounded" }
      )
    }))
    outcomes.forEach((o, i) => {
      if (i === 17) expect(Exit.isFailure(o)).toBe(true)
      else expect(o).toEqual(Exit.succeed({ accepted: 2, duplicates: 0, conflicts: 0 }))
    })
    const again = await runtime.runPromise(Effect.flatMap(Ledger.Ledger, (l) => l.record([event("gen-iso-3"), event("gen-iso-new")])))
    expect(again).toEqual({ accepted: 1, duplicates: 1, conflicts: 0 })
  })
})
