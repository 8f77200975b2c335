import { BigDecimal, Either } from "effect"

/** Costs are kept as integer nano-USD (1 USD = 10^9 nUSD): exact, and summable as integers. */
export const NANO_SCALE = 9

const DECIMAL = /^([+-]?)(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/**
 * Parses a decimal text (as JSON spells numbers: `0.005953`, `1e-06`, `51`) into nano-USD.
 * Digits beyond the 9th decimal are rounded half up; that is below any amount OpenRouter bills.
 */
export const parseNanoUsd = (text: string): Either.Either<bigint, string> => {
  const m = DECIMAL.exec(text.trim())
  if (m === null || (m[2] === undefined && (m[3] === undefined || m[3] === ""))) {
    return Either.left(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`)
  }
  const negative = m[1] === "-"
  const digits = (m[2] ?? "") + (m[3] ?? "")
  const exponent = Number(m[4] ?? "0") - (m[3] ?? "").length + NANO_SCALE
  if (!Number.isSafeInteger(exponent) || exponent > 30) return Either.left(`number out of range: ${text}`)
  let value: bigint
  if (exponent >= 0) {
    value = BigInt(digits || "0") * 10n ** BigInt(exponent)
  } else {
    const cut = -exponent
    if (cut > digits.length + 1) {
      value = 0n
    } else {
      const padded = digits.padStart(cut, "0")
      const keep = padded.slice(0, padded.length - cut) || "0"
      const firstDropped = padded.charCodeAt(padded.length - cut) - 48
      value = BigInt(keep) + (firstDropped >= 5 ? 1n : 0n)
    }
  }
  if (negative && value !== 0n) return Either.left(`negative cost: ${text}`)
  return Either.right(value)
}

/** A JSON number, turned into its shortest round-trip decimal text first (never float arithmetic). */
export const nanoUsdFromNumber = (n: number): Either.Either<bigint, string> =>
  Number.isFinite(n) ? parseNanoUsd(String(n)) : Either.left(`not a finite number: ${n}`)

export const nanoUsdToBigDecimal = (nusd: bigint): BigDecimal.BigDecimal => BigDecimal.make(nusd, NANO_SCALE)

/** `1234500n` → `"0.0012345"`: the exact USD amount, without trailing zeros beyond 2 decimals. */
export const formatUsd = (nusd: bigint, minDecimals = 2): string => formatDecimal(nanoUsdToBigDecimal(nusd), minDecimals)

/** Plain decimal text (never exponent notation), with at least `minDecimals` decimals. */
export const formatDecimal = (d: BigDecimal.BigDecimal, minDecimals = 0): string => {
  const n = BigDecimal.normalize(d)
  const scale = Math.max(n.scale, minDecimals)
  const value = scale > n.scale ? n.value * 10n ** BigInt(scale - n.scale) : n.value * (n.scale < 0 ? 10n ** BigInt(-n.scale) : 1n)
  const effScale = Math.max(scale, 0)
  const negative = value < 0n
  const digits = (negative ? -value : value).toString().padStart(effScale + 1, "0")
  const int = digits.slice(0, digits.length - effScale)
  const frac = digits.slice(digits.length - effScale)
  return (negative ? "-" : "") + int + (effScale > 0 ? "." + frac : "")
}

/** Rounds half up (away from zero for positives) to `places` decimals. */
export const roundHalfUp = (d: BigDecimal.BigDecimal, places: number): BigDecimal.BigDecimal =>
  BigDecimal.round(d, { scale: places, mode: "half-from-zero" })

/** `cost_pln = round_half_up(cost_usd × markup × rate, 2)` . */
export const costPln = (
  costNusd: bigint,
  markup: BigDecimal.BigDecimal,
  rate: BigDecimal.BigDecimal
): BigDecimal.BigDecimal =>
  roundHalfUp(BigDecimal.multiply(BigDecimal.multiply(nanoUsdToBigDecimal(costNusd), markup), rate), 2)
