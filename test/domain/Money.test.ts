import { BigDecimal, Either } from "effect"
import { describe, expect, it } from "vitest"
import { costPln, formatUsd, nanoUsdFromNumber, parseNanoUsd } from "../../src/domain/Money.js"

const nusd = (s: string) => Either.getOrThrow(parseNanoUsd(s))

describe("nano-USD from decimal text", () => {
  it.each([
    ["0.005953", 5_953_000n],
    ["0.0013291", 1_329_100n],
    ["1e-06", 1_000n],
    ["51", 51_000_000_000n],
    ["1.5E2", 150_000_000_000n],
    ["0.000000001", 1n],
    ["0.0000000015", 2n], // half up at the 10th decimal
    ["0.0000000014", 1n],
    ["0", 0n]
  ])("%s → %s nUSD", (text, expected) => {
    expect(nusd(text)).toBe(expected)
  })

  it("takes a JSON number by its shortest text, never by float arithmetic", () => {
    // 0.1 + 0.2 style errors would show up as 300000000.00000006 etc.
    expect(Either.getOrThrow(nanoUsdFromNumber(0.3))).toBe(300_000_000n)
    expect(Either.getOrThrow(nanoUsdFromNumber(1e-6))).toBe(1_000n)
    expect(Either.getOrThrow(nanoUsdFromNumber(0.005334))).toBe(5_334_000n)
  })

  it.each(["", "abc", "1.2.3", "-0.5", "0x10", "1e400"])("refuses %j", (text) => {
    expect(Either.isLeft(parseNanoUsd(text))).toBe(true)
  })

  it("formats exact USD", () => {
    expect(formatUsd(5_953_000n)).toBe("0.005953")
    expect(formatUsd(51_000_000_000n)).toBe("51.00")
    expect(formatUsd(0n)).toBe("0.00")
  })
})

describe("cost in PLN", () => {
  it("rounds half up to grosz after markup and rate", () => {
    // 0.5 USD × 1.3 × 4.0000 = 2.60 exactly
    expect(BigDecimal.format(costPln(500_000_000n, BigDecimal.unsafeFromString("1.3"), BigDecimal.unsafeFromString("4")))).toBe("2.6")
    // 0.001 USD × 1 × 4.125 = 0.004125 → 0.00; 0.001212122 × 4.125 = 0.005000003 → 0.01
    expect(BigDecimal.format(costPln(1_000_000n, BigDecimal.unsafeFromString("1"), BigDecimal.unsafeFromString("4.125")))).toBe("0")
    expect(BigDecimal.format(costPln(1_212_122n, BigDecimal.unsafeFromString("1"), BigDecimal.unsafeFromString("4.125")))).toBe("0.01")
    // exactly half a grosz rounds up: 0.005 PLN
    expect(BigDecimal.format(costPln(1_250_000n, BigDecimal.unsafeFromString("1"), BigDecimal.unsafeFromString("4")))).toBe("0.01")
  })
})

describe("decimal text", () => {
  it("never uses exponents and pads to the minimum decimals", async () => {
    const { formatDecimal } = await import("../../src/domain/Money.js")
    expect(formatDecimal(BigDecimal.unsafeFromString("1e-9"))).toBe("0.000000001")
    expect(formatDecimal(BigDecimal.unsafeFromString("1200"), 2)).toBe("1200.00")
    expect(formatDecimal(BigDecimal.unsafeFromString("-3.5"), 2)).toBe("-3.50")
    expect(formatDecimal(BigDecimal.unsafeFromString("3.6383"), 2)).toBe("3.6383")
  })
})
