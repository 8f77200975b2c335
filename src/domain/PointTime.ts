/**
 * The InfluxDB timestamp of a usage point: the event time in nanoseconds with its
 * sub-millisecond digits (the last six) replaced by a hash of the generation id mod 10^6.
 *
 * InfluxDB keeps one point per (measurement, tag set, timestamp). Deriving the low digits from
 * the generation id makes a rewrite of the same event (redelivery, a retried flush) land on the
 * same point, and two requests of one user and model in one millisecond land on two points
 * (unless their ids collide mod 10^6: one chance in a million per such pair).
 *
 * The millisecond is kept, so the point stays in the same window as its event for any window
 * with millisecond bounds (every window this service queries).
 *
 * The hash is the first 8 bytes of SHA-256 of the id's UTF-8 bytes, read big-endian, mod 10^6:
 * easy to reproduce in any language when rows must be matched by hand.
 */
import { createHash } from "node:crypto"

const MS_NS = 1_000_000n

export const subMillisecondHash = (generationId: string): bigint =>
  createHash("sha256").update(generationId, "utf8").digest().readBigUInt64BE(0) % MS_NS

export const pointTimeNs = (eventTimeNs: bigint, generationId: string): bigint => {
  const ms = eventTimeNs >= 0n ? eventTimeNs / MS_NS : (eventTimeNs - MS_NS + 1n) / MS_NS
  return ms * MS_NS + subMillisecondHash(generationId)
}
