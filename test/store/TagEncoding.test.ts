/**
 * InfluxDB tag values are encoded injectively: two different users, models, key names or org ids
 * never become one tag value, and decoding gives back exactly the original — checked over awkward
 * strings (backslashes, U+2060, CR/LF, NUL, commas, spaces, `=`, `%`) and over random ones, and
 * through the line protocol `Point` writes (the real-influxd round trip is in InfluxStore.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { decodeTag, encodeTag, toLineProtocol } from "../../src/store/UsagePoint.js"
import { usageEvent } from "../support/usageEvent.js"

const AWKWARD = [
  "", "\\", "\\\\", "tenant\\", "tenant\\\u2060", "tenant\u2060", "a\nb", "a\\nb", "a\rb", "a\\rb", "a\r\nb", "nul\u0000",
  "nul\\0", "a,b", "a b", "a=b", "%", "%25", "%%", "%5C", "\\%", "ü, é=ł ó", "trailing space ", "\t", "\u007f", "emoji 🦊"
]

/** Strings built from the characters that matter, and any other characters. */
const awkwardString = FastCheck.array(
  FastCheck.oneof(
    FastCheck.constantFrom("\\", "\u2060", "\n", "\r", "\u0000", ",", " ", "=", "%", "2", "5", "C", "\"", "'"),
    FastCheck.fullUnicode()
  ),
  { maxLength: 24 }
).map((cs) => cs.join(""))

describe("tag encoding", () => {
  it("round-trips every awkward value exactly, and keeps every pair apart", () => {
    for (const v of AWKWARD) expect(decodeTag(encodeTag(v))).toBe(v)
    const encoded = AWKWARD.map(encodeTag)
    expect(new Set(encoded).size).toBe(AWKWARD.length)
  })

  it("never writes what line protocol cannot carry: no backslash, no control character", () => {
    for (const v of AWKWARD) expect(encodeTag(v)).not.toMatch(/[\\\u0000-\u001f\u007f]/)
  })

  it.prop("decode(encode(x)) = x, and encode(x) = encode(y) only when x = y", [awkwardString, awkwardString], ([x, y]) => {
    expect(decodeTag(encodeTag(x))).toBe(x)
    if (x !== y) expect(encodeTag(x)).not.toBe(encodeTag(y))
  })

  it("two users a real newline and backslash-n apart are two series in the line protocol", () => {
    const line = (user: string) => toLineProtocol(usageEvent({ generationId: "g", user, costNusd: 1n }), "usage_tracking")
    expect(line("a\nb")).not.toBe(line("a\\nb"))
    expect(line("a\nb")).not.toContain("\n")
    expect(line("tenant\\")).not.toBe(line("tenant\\\u2060"))
  })
})
