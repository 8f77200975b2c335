/**
 * The contract stands alone: another process (the reseller's console) builds a typed client of
 * the app from `src/api/` (`Api.ts`, and `Client.ts` over `HttpApiClient.make`) and calls the running
 * app through it.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeClient } from "../../src/api/Client.js"
import { ADMIN_TOKEN, postWebhook } from "../support/app.js"
import { useAppWithNbp } from "../support/appWithNbp.js"
import { deliveryOf } from "../support/otlp.js"

const env = useAppWithNbp()

const client = (token: string) => makeClient(env.app.url, token).pipe(Effect.provide(FetchHttpClient.layer))

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

describe("a typed client of the app from the contract alone", () => {
  it("bills a delivered day and reads it back: batch run, runs, the month summary, the statement", async () => {
    const sent = await postWebhook(env.app.url, deliveryOf({ id: "gen-client-1", at: "2025-11-12T10:00:00.000Z", cost: "0.25", user: "anna", model: "m/one" }))
    expect(sent.status).toBe(200)

    const result = await run(Effect.gen(function*() {
      const api = yield* client(ADMIN_TOKEN)
      const ran = yield* api.batch.run({ urlParams: { date: "2025-11-12" } })
      const runs = yield* api.batch.runs({ urlParams: { limit: 5 } })
      const summary = yield* api.usage.summary({ urlParams: { month: "2025-11" } })
      const statement = yield* api.statements.statement({ path: { month: "2025-11" }, urlParams: {} })
      const months = yield* api.months.list()
      return { ran, runs, summary, statement, months }
    }))

    expect(result.ran.results.map((r) => [r.usageDate, r.status])).toEqual([["2025-11-12", "succeeded"]])
    expect(result.runs.runs[0].usageDate).toBe("2025-11-12")
    // Decoded into the contract's own classes, not loose JSON.
    expect(result.summary.constructor.name).toBe("MonthSummary")
    expect(result.summary.totals.costUsd).toBe("0.25")
    expect(result.summary.users.map((u) => u.user)).toEqual(["anna"])
    expect(result.statement.totals.costPln).toBe(result.summary.totals.costPln)
    expect(result.statement.status).toBe("open")
  })

  it("gets the contract's typed errors: a wrong token is Unauthorized, a bad month InvalidQuery or a parse error", async () => {
    const unauthorized = await run(Effect.flip(Effect.flatMap(client("not-the-admin-token-000000"), (api) => api.batch.runs({ urlParams: {} }))))
    expect(unauthorized._tag).toBe("Unauthorized")

    const refused = await run(Effect.flip(Effect.flatMap(client(ADMIN_TOKEN), (api) =>
      api.usage.daily({ urlParams: { from: "2025-11-30", to: "2025-11-01" } }))))
    expect(refused._tag).toBe("InvalidQuery")
  })
})
