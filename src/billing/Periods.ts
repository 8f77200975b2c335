/**
 * Accounting periods as plain functions: which month a usage day belongs to, which markup was in
 * force on a day, the first open month after a closed one, and the one adjustment rule — what a
 * batch run of a closed day writes instead of changing the closed month's rows.
 */
import { BigDecimal } from "effect"
import { costPln, formatDecimal, formatUsd } from "../domain/Money.js"
import type { UsageAggregate } from "../domain/UsageEvent.js"
import { nextMonth } from "../domain/WarsawDay.js"
import { noTokens } from "./Summary.js"

/** The first month after `month` that is not closed: where adjustments of `month`'s days go. */
export const firstOpenMonthAfter = (month: string, closed: ReadonlySet<string>): string => {
  let m = nextMonth(month)
  while (closed.has(m)) m = nextMonth(m)
  return m
}

export interface MarkupEntry {
  readonly id: number
  readonly effectiveFrom: string
  readonly multiplier: string
  readonly recordedAt: string
}

/**
 * The markup in force on `day`: the entry with the latest effective_from on or before the day (of
 * two with the same day, the later recorded). Undefined before the first entry.
 */
export const markupOn = (entries: ReadonlyArray<MarkupEntry>, day: string): MarkupEntry | undefined => {
  let best: MarkupEntry | undefined
  for (const e of entries) {
    if (e.effectiveFrom > day) continue
    if (best === undefined || e.effectiveFrom > best.effectiveFrom || (e.effectiveFrom === best.effectiveFrom && e.id > best.id)) {
      best = e
    }
  }
  return best
}

/** Figures of one (day, user, model): a daily_usage row or an adjustment (signed). */
export interface Figures extends UsageAggregate {
  readonly costPln: string
  readonly markup: string
  readonly rate: string
  readonly rateTable: string
  readonly rateDate: string
}

export interface Pricing {
  readonly markup: string
  readonly rate: string
  readonly rateTable: string
  readonly rateDate: string
}

/** One adjustment row to write: the difference, priced at the original day's rate and markup. */
export interface AdjustmentDelta extends Pricing, UsageAggregate {
  readonly costUsd: string
  readonly costPln: string
}

const key = (r: { readonly user: string; readonly model: string }) => JSON.stringify([r.user, r.model])

const dec = (s: string) => BigDecimal.unsafeFromString(s)

/**
 * The adjustment rule. `booked` is what the closed day already accounts for per (user, model): its
 * frozen daily_usage row plus every adjustment written for it since. `found` is what the store holds
 * now. For each key whose figures differ, the difference: counts and nano-USD subtracted, PLN as
 * round_half_up(found USD × markup × rate, 2) minus the PLN already booked — so that booked plus
 * adjustments always equals the found figures priced at the original day's rate and markup. Keys
 * with no difference give nothing, so re-running the same day again adds nothing more.
 * `dayPricing` prices keys that have nothing booked yet (a user new on that day).
 */
export const adjustmentsFor = (
  booked: ReadonlyArray<Figures>,
  found: ReadonlyArray<UsageAggregate>,
  dayPricing: Pricing
): Array<AdjustmentDelta> => {
  interface Acc { sum: Figures; pricing: Pricing }
  const byKey = new Map<string, Acc>()
  for (const b of booked) {
    const k = key(b)
    const acc = byKey.get(k)
    if (acc === undefined) {
      byKey.set(k, { sum: { ...b }, pricing: { markup: b.markup, rate: b.rate, rateTable: b.rateTable, rateDate: b.rateDate } })
    } else {
      const s = acc.sum
      acc.sum = {
        ...s,
        requests: s.requests + b.requests,
        inputTokens: s.inputTokens + b.inputTokens,
        outputTokens: s.outputTokens + b.outputTokens,
        totalTokens: s.totalTokens + b.totalTokens,
        cachedTokens: s.cachedTokens + b.cachedTokens,
        reasoningTokens: s.reasoningTokens + b.reasoningTokens,
        costNusd: s.costNusd + b.costNusd,
        costPln: formatDecimal(BigDecimal.sum(dec(s.costPln), dec(b.costPln)), 2)
      }
    }
  }
  const zero = (user: string, model: string): UsageAggregate => ({ user, model, ...noTokens, costNusd: 0n })
  const foundByKey = new Map(found.map((f) => [key(f), f]))
  const keys = [...new Set([...byKey.keys(), ...foundByKey.keys()])].sort()
  const out: Array<AdjustmentDelta> = []
  for (const k of keys) {
    const acc = byKey.get(k)
    const [user, model] = JSON.parse(k) as [string, string]
    const f = foundByKey.get(k) ?? zero(user, model)
    const b = acc?.sum ?? { ...zero(user, model), costPln: "0.00" }
    const pricing = acc?.pricing ?? dayPricing
    const pln = BigDecimal.subtract(costPln(f.costNusd, dec(pricing.markup), dec(pricing.rate)), dec(b.costPln))
    const d: AdjustmentDelta = {
      user,
      model,
      requests: f.requests - b.requests,
      inputTokens: f.inputTokens - b.inputTokens,
      outputTokens: f.outputTokens - b.outputTokens,
      totalTokens: f.totalTokens - b.totalTokens,
      cachedTokens: f.cachedTokens - b.cachedTokens,
      reasoningTokens: f.reasoningTokens - b.reasoningTokens,
      costNusd: f.costNusd - b.costNusd,
      costUsd: formatUsd(f.costNusd - b.costNusd),
      costPln: formatDecimal(pln, 2),
      ...pricing
    }
    const same = d.requests === 0 && d.inputTokens === 0 && d.outputTokens === 0 && d.totalTokens === 0 &&
      d.cachedTokens === 0 && d.reasoningTokens === 0 && d.costNusd === 0n && BigDecimal.isZero(pln)
    if (!same) out.push(d)
  }
  return out
}
