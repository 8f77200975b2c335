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
 * - Characters line protocol cannot carry as they are, and the escape character itself. A tag value
 *   ending in a backslash is refused by InfluxDB ("invalid tag format") whatever the escaping, and
 *   control characters are written as two characters (`\n`), so a real newline and the two
 *   characters backslash-n would become one value. `encodeTag` writes `%`, `\` and the control
 *   characters (U+0000–U+001F, U+007F) as `%XX` (their UTF-8 byte in hex), everything else as it
 *   is; `decodeTag` reverses it. Encoding the escape character `%` itself is what makes the
 *   encoding injective: two different values never become one tag value, and decoding gives back
 *   exactly the original (`test/store/TagEncoding.test.ts`). Commas, spaces and `=` are `Point`'s to
 *   escape, and InfluxDB stores them as they are.
 */
import { Point } from "@influxdata/influxdb-client"
import { pointTimeNs } from "../domain/PointTime.js"
import type { UsageEvent } from "../domain/UsageEvent.js"

const ENCODED = /[%\\\u0000-\u001f\u007f]/g
const hex = (c: string) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")

export const encodeTag = (value: string): string => value.replace(ENCODED, hex)

export const decodeTag = (value: string): string =>
  value.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))

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
