/**
 * Comparing one UTC day of OpenRouter's activity for the client's key with the ledger's events of
 * the same day, per model. Pure: the caller fetches both sides.
 *
 * - `ok`: the same number of requests, and costs within 0.5 % of OpenRouter's figure or 0.01 USD
 *   (whichever is larger): OpenRouter's `usage` is a rounded float, ours exact nano-USD.
 * - `missing`: OpenRouter counts more requests (or, with equal counts, more cost beyond the
 *   tolerance): Broadcast did not deliver everything; the requests and USD missing are kept.
 * - `extra`: the ledger has more than OpenRouter reports (another key's events, or a model
 *   OpenRouter does not list for the key).
 */
import { DateTime } from "effect"
import { addDays, dayOf, daysFrom, startOfDay } from "./WarsawDay.js"

export type ModelStatus = "ok" | "missing" | "extra"
export type DayStatus = ModelStatus | "unavailable"

export interface Side {
  readonly requests: number
  readonly costNusd: bigint
  /**
   * Of `requests`, those whose cost is not known yet (pending, on our side): known requests with
   * an unknown cost. `costNusd` is the known part only.
   */
  readonly pendingRequests?: number
}

export interface ModelReconciliation {
  readonly model: string
  readonly status: ModelStatus
  readonly openRouter: Side
  readonly ledger: Side
  /** OpenRouter's requests minus ours, when positive; else 0 */
  readonly missingRequests: number
  /** OpenRouter's cost minus ours, when positive; else 0 */
  readonly missingNusd: bigint
}

/** 0.01 USD */
export const ABSOLUTE_TOLERANCE_NUSD = 10_000_000n
/** 0.5 % = 5 per mille */
const RELATIVE_TOLERANCE_PER_MILLE = 5n

export const withinTolerance = (openRouter: bigint, ledger: bigint): boolean => {
  const diff = openRouter > ledger ? openRouter - ledger : ledger - openRouter
  const relative = (openRouter * RELATIVE_TOLERANCE_PER_MILLE) / 1000n
  return diff <= (relative > ABSOLUTE_TOLERANCE_NUSD ? relative : ABSOLUTE_TOLERANCE_NUSD)
}

export const compareModel = (model: string, openRouter: Side, ledger: Side): ModelReconciliation => {
  const missingRequests = Math.max(0, openRouter.requests - ledger.requests)
  // With pending costs our cost is a lower bound: it can only be short of OpenRouter's, never beyond.
  const unknownCost = (ledger.pendingRequests ?? 0) > 0
  const missingNusd = unknownCost ? 0n : openRouter.costNusd > ledger.costNusd ? openRouter.costNusd - ledger.costNusd : 0n
  const costOk = unknownCost
    ? ledger.costNusd <= openRouter.costNusd || withinTolerance(openRouter.costNusd, ledger.costNusd)
    : withinTolerance(openRouter.costNusd, ledger.costNusd)
  const status: ModelStatus = openRouter.requests > ledger.requests
    ? "missing"
    : openRouter.requests < ledger.requests
    ? "extra"
    : costOk
    ? "ok"
    : openRouter.costNusd > ledger.costNusd
    ? "missing"
    : "extra"
  return { model, status, openRouter, ledger, missingRequests, missingNusd: status === "ok" ? 0n : missingNusd }
}

/**
 * Every model either side knows, sorted. OpenRouter's rows (one per model and endpoint) are summed
 * per model; a ledger model that equals a row's permaslug counts under that row's model.
 */
export const reconcileDay = (
  openRouterRows: ReadonlyArray<{ readonly model: string; readonly permaslug?: string | null; readonly requests: number; readonly costNusd: bigint }>,
  ledgerRows: ReadonlyArray<{ readonly model: string; readonly requests: number; readonly costNusd: bigint; readonly pendingRequests?: number }>
): ReadonlyArray<ModelReconciliation> => {
  const zero = (): { requests: number; costNusd: bigint } => ({ requests: 0, costNusd: 0n })
  const or = new Map<string, { requests: number; costNusd: bigint }>()
  const alias = new Map<string, string>()
  for (const r of openRouterRows) {
    const s = or.get(r.model) ?? zero()
    s.requests += r.requests
    s.costNusd += r.costNusd
    or.set(r.model, s)
    if (r.permaslug) alias.set(r.permaslug, r.model)
  }
  const ours = new Map<string, { requests: number; costNusd: bigint; pendingRequests: number }>()
  for (const r of ledgerRows) {
    const model = or.has(r.model) ? r.model : alias.get(r.model) ?? r.model
    const s = ours.get(model) ?? { ...zero(), pendingRequests: 0 }
    s.requests += r.requests
    s.costNusd += r.costNusd
    s.pendingRequests += r.pendingRequests ?? 0
    ours.set(model, s)
  }
  const models = [...new Set([...or.keys(), ...ours.keys()])].sort()
  return models.map((m) => compareModel(m, or.get(m) ?? zero(), ours.get(m) ?? zero()))
}

/** A day's status: missing if any model is missing, else extra if any is extra, else ok. */
export const dayStatus = (models: ReadonlyArray<ModelReconciliation>): ModelStatus =>
  models.some((m) => m.status === "missing") ? "missing" : models.some((m) => m.status === "extra") ? "extra" : "ok"

/** YYYY-MM-DD of a UTC instant. */
export const utcDay = (ms: number): string => dayOf(ms, "UTC")

/** OpenRouter's window: the last 30 completed UTC days before `nowMs`, oldest first. */
export const completedWindow = (nowMs: number, days = 30): Array<string> => {
  const today = utcDay(nowMs)
  return daysFrom(addDays(today, -days), addDays(today, -1))
}

export const dayStartMs = (day: string): number => DateTime.toEpochMillis(startOfDay(day, "UTC"))
