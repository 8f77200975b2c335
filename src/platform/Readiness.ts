/** /ready: each capability registers its own check (ledger, summary DB, InfluxDB, outbox, batch). */
import { Effect } from "effect"

export interface CheckResult {
  readonly ok: boolean
  readonly [detail: string]: unknown
}

export interface ReadinessShape {
  readonly register: (name: string, check: Effect.Effect<CheckResult>) => void
  readonly run: Effect.Effect<{ readonly ok: boolean; readonly checks: Record<string, CheckResult> }>
}

const make = (): ReadinessShape => {
  const checks = new Map<string, Effect.Effect<CheckResult>>()
  return {
    register: (name, check) => void checks.set(name, check),
    run: Effect.gen(function*() {
      const results = yield* Effect.forEach(
        [...checks],
        ([name, check]) =>
          check.pipe(
            Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => "timed out" }),
            Effect.catchAllCause((cause) => Effect.succeed({ ok: false, error: String(cause).split("\n")[0] })),
            Effect.map((r) => [name, r] as const)
          ),
        { concurrency: "unbounded" }
      )
      return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) }
    })
  }
}

export class Readiness extends Effect.Service<Readiness>()("mai-usage/Readiness", { sync: make }) {}

/** A check's status word (`ok`, `degraded`, …), when it gives one; never free text. */
const STATUS_WORD = /^[a-z][a-z-]{0,23}$/

/**
 * What anyone may see: each check's name and status, nothing else (no error text, no counts,
 * no ids). With admin authentication the full result is shown.
 */
export const quiet = (r: { readonly ok: boolean; readonly checks: Record<string, CheckResult> }) => ({
  ok: r.ok,
  checks: Object.fromEntries(
    Object.entries(r.checks).map(([name, c]) => [
      name,
      typeof c.status === "string" && STATUS_WORD.test(c.status) ? { ok: c.ok, status: c.status } : { ok: c.ok }
    ])
  )
})
