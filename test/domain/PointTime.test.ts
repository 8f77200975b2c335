import { describe, expect, it } from "vitest"
import { pointTimeNs, subMillisecondHash } from "../../src/domain/PointTime.js"

describe("point timestamp", () => {
  const t = 1_790_606_306_123_456_789n

  it("keeps the millisecond and replaces the last six digits by the id's hash mod 10^6", () => {
    // sha256("gen-1")[0..8] as a big-endian integer, mod 10^6 — a fixed value other tools can check.
    expect(subMillisecondHash("gen-1")).toBe(757_588n)
    expect(pointTimeNs(t, "gen-1")).toBe(1_790_606_306_123_757_588n)
  })

  it("is the same for a redelivery, whatever the sub-millisecond digits of the event time", () => {
    const id = "gen-1790606306-ezgyzfrwf8AlRbQzSiGe"
    expect(pointTimeNs(t, id)).toBe(pointTimeNs(t - 456_789n, id))
    expect(pointTimeNs(t, id)).toBe(pointTimeNs(t + 543_210n, id))
  })

  it("separates two requests in the same millisecond", () => {
    const a = pointTimeNs(t, "gen-a")
    const b = pointTimeNs(t, "gen-b")
    expect(a).not.toBe(b)
    expect(a / 1_000_000n).toBe(b / 1_000_000n)
  })

  it("never moves a point out of its millisecond, for many ids", () => {
    const ms = t / 1_000_000n
    const seen = new Set<bigint>()
    for (let i = 0; i < 2000; i++) {
      const p = pointTimeNs(t, `gen-${i}`)
      expect(p / 1_000_000n).toBe(ms)
      seen.add(p)
    }
    expect(seen.size).toBeGreaterThan(1990)
  })

  it("hashes Polish letters by their UTF-8 bytes", () => {
    expect(subMillisecondHash("gen-żółć")).not.toBe(subMillisecondHash("gen-zolc"))
    expect(subMillisecondHash("gen-żółć")).toBeLessThan(1_000_000n)
  })
})
