import { Schema } from "effect"

/**
 * Why no rate could be given. There is deliberately no fallback rate: the
 * caller gets this error and decides (the batch fails and retries later).
 * - `unreachable`: NBP (or the NBP service) did not answer usably, and nothing was cached
 * - `not-found`: NBP has no table for the request (e.g. before 2002-01-02)
 * - `bad-request`: the request itself is invalid (bad date, range over 367 days)
 */
export class NbpRateError extends Schema.TaggedError<NbpRateError>()("NbpRateError", {
  message: Schema.String,
  reason: Schema.Literal("unreachable", "not-found", "bad-request")
}) {}
