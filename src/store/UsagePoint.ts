/**
 * One usage event as an InfluxDB point, in line protocol built by
 * `@influxdata/influxdb-client`'s `Point` — its escaping, not ours.
 *
 * measurement `INFLUXDB_MEASUREMENT`; tags client_org_id, model, user, api_key; integer fields
 * input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nusd; string
 * fields generation_id, provider; timestamp from `pointTimeNs`.
 *
 * Two things line protocol cannot carry, decided here:
 * - An empty tag value: `Point` leaves such a tag out. InfluxQL's `GROUP BY` reads a missing tag
 *   as "", the same value the ledger holds, so nothing is lost (an empty api_key is the usual case).
 * - A tag value ending in a backslash: InfluxDB rejects the line ("invalid tag format") whatever
 *   the escaping, which would block the outbox forever. Such a value gets an invisible U+2060 WORD
 *   JOINER appended on write, and `decodeTag` removes it on read, so it round-trips exactly.
 *   (A real value ending in backslash + U+2060 would read back without its last character.)
 * Control characters in tag values are written as `Point` escapes them (`\n` as two characters)
 * and read back that way; user ids and model names do not carry them.
 */
import { Point } from "@influxdata/influxdb-client"
import { pointTimeNs } from "../domain/PointTime.js"
import type { UsageEvent } from "../domain/UsageEvent.js"

const TRAILING_BACKSLASH_GUARD = "\u2060"

export const encodeTag = (value: string): string =>
  value.endsWith("\\") ? value + TRAILING_BACKSLASH_GUARD : value

export const decodeTag = (value: string): string =>
  value.endsWith("\\" + TRAILING_BACKSLASH_GUARD) ? value.slice(0, -TRAILING_BACKSLASH_GUARD.length) : value

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * The largest tag value the outbox sends, in UTF-8 bytes. InfluxDB 1.x refuses a line whose series
 * key (measurement and tags) exceeds 64 KiB ("max key length exceeded"); four tags of at most this
 * much stay under it. The webhook already rejects names above 512 bytes; this guards rows that
 * reached the ledger otherwise (older versions, a hand edit): they are quarantined, never sent.
 */
export const MAX_TAG_BYTES = 16_000

/** Why this event cannot be sent as a point (a tag too long for InfluxDB), or undefined. */
export const unsendable = (event: UsageEvent): string | undefined => {
  const tags = [["client_org_id", event.clientOrgId], ["model", event.model], ["user", event.user], ["api_key", event.apiKeyName]]
  for (const [name, value] of tags) {
    const bytes = Buffer.byteLength(encodeTag(value), "utf8")
    if (bytes > MAX_TAG_BYTES) {
      return `tag ${name} is ${bytes} bytes, above the ${MAX_TAG_BYTES}-byte bound for InfluxDB tags (not sent)`
    }
  }
  return undefined
}

export const toLineProtocol = (event: UsageEvent, measurement: string): string => {
  const point = new Point(measurement)
    .tag("client_org_id", encodeTag(event.clientOrgId))
    .tag("model", encodeTag(event.model))
    .tag("user", encodeTag(event.user))
    .tag("api_key", encodeTag(event.apiKeyName))
    .intField("input_tokens", event.inputTokens)
    .intField("output_tokens", event.outputTokens)
    .intField("total_tokens", event.totalTokens)
    .intField("cached_tokens", event.cachedTokens)
    .intField("reasoning_tokens", event.reasoningTokens)
    .stringField("generation_id", event.generationId)
    .stringField("provider", event.provider)
    .timestamp(pointTimeNs(event.eventTimeNs, event.generationId).toString())
  // The outbox never hands over a pending cost (`Ledger.unflushed`): InfluxDB would sum it as 0.
  if (event.costNusd === null) throw new Error(`the cost of ${event.generationId} is pending: not written to InfluxDB`)
  if (event.costNusd <= MAX_SAFE) {
    point.intField("cost_nusd", Number(event.costNusd))
  } else {
    // `intField` goes through a JS number; above 2^53 nano-USD (9 million USD in one request)
    // set the already-formatted field value `Point` documents as public, keeping every digit.
    point.fields["cost_nusd"] = `${event.costNusd}i`
  }
  // Never undefined: the measurement is set and there are fields.
  return point.toLineProtocol()!
}
