/** The batch tests' independent money arithmetic: integers only, no code shared with src/. */
/** Nano-USD of a decimal text, by integer arithmetic only (the test's independent computation). */
export const nanoUsd = (cost: string): bigint => {
  const [whole, frac = ""] = cost.split(".")
  return BigInt(whole) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9))
}

/** round_half_up(nusd × markup × rate, 2) in PLN, as "x.yy", computed with bigint only. */
export const expectedPln = (nusd: bigint, markup: string, rate: string): string => {
  const scaled = (t: string) => {
    const [w, f = ""] = t.split(".")
    return { n: BigInt(w + f), scale: f.length }
  }
  const m = scaled(markup)
  const r = scaled(rate)
  const product = nusd * m.n * r.n // scale 9 + m.scale + r.scale
  const divisor = 10n ** BigInt(9 + m.scale + r.scale - 2)
  const grosze = (product * 2n + divisor) / (2n * divisor) // half up, positives only
  return `${grosze / 100n}.${String(grosze % 100n).padStart(2, "0")}`
}
