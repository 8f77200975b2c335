/**
 * Reconcile before you invoice: what month close asks of reconciliation, as an interface billing
 * owns (reconciliation, above billing, provides it: `openrouter/ReconciliationGateLive.ts`).
 * Without a management key there is no reconciliation: close works as before and the statement says
 * the month was not reconciled.
 */
import { Context, Effect, Layer } from "effect"

export interface DaysReconciliation {
  /** false without OPENROUTER_MANAGEMENT_KEY */
  readonly configured: boolean
  /** days where OpenRouter counted requests the ledger never received */
  readonly missing: ReadonlyArray<string>
  /** days never reconciled, or whose last attempt was unavailable */
  readonly unreconciled: ReadonlyArray<string>
}

export interface ReconciliationGateShape {
  /** The (UTC) days from..to as reconciliation found them. */
  readonly ofDays: (from: string, to: string) => Effect.Effect<DaysReconciliation, { readonly message: string }>
}

export class ReconciliationGate extends Context.Tag("mai-usage/ReconciliationGate")<ReconciliationGate, ReconciliationGateShape>() {}

/** No reconciliation configured (tests of billing alone; a process without OpenRouter). */
export const NoReconciliation = Layer.succeed(ReconciliationGate, {
  ofDays: () => Effect.succeed({ configured: false, missing: [], unreconciled: [] })
})
