/**
 * Where usage is read back from for summaries: the ledger itself (embedded mode) or InfluxDB.
 * The batch, the API and the dashboard depend on this interface only.
 */
import { Context, DateTime, Effect, Schema } from "effect"
import type { UsageAggregate } from "../domain/UsageEvent.js"

export class UsageStoreError extends Schema.TaggedError<UsageStoreError>()("UsageStoreError", {
  message: Schema.String
}) {}

export interface UsageWindow {
  readonly clientOrgId: string
  /** Inclusive. */
  readonly start: DateTime.Utc
  /** Exclusive. */
  readonly end: DateTime.Utc
}

export interface PendingRequests {
  readonly model: string
  readonly apiKeyName: string
  readonly requests: number
}

export interface KeyAggregate {
  readonly apiKeyName: string
  readonly model: string
  readonly requests: number
  readonly costNusd: bigint
}

export interface UsageStoreShape {
  readonly source: "ledger" | "influxdb"
  /** Per (user, model) sums of the events whose event time lies in the window (those with a known cost). */
  readonly aggregate: (window: UsageWindow) => Effect.Effect<ReadonlyArray<UsageAggregate>, UsageStoreError>
  /**
   * Makes the store complete for the window before it is summarised (InfluxDB mode: drain the
   * outbox, fail if rows of the window remain unflushed or quarantined). A no-op for the ledger.
   */
  readonly ensureComplete: (window: UsageWindow) => Effect.Effect<void, UsageStoreError>
  /**
   * Requests of the window whose cost is pending, per model and API key name (from the ledger in
   * both modes: they are in neither `aggregate` nor InfluxDB until their cost is filled).
   */
  readonly pending: (window: UsageWindow) => Effect.Effect<ReadonlyArray<PendingRequests>, UsageStoreError>
  /** Like `aggregate`, per API key name (as delivered) and model instead of user and model (reconciliation). */
  readonly aggregateByKey: (window: UsageWindow) => Effect.Effect<ReadonlyArray<KeyAggregate>, UsageStoreError>
}

export class UsageStore extends Context.Tag("mai-usage/UsageStore")<UsageStore, UsageStoreShape>() {}

export const toNs = (t: DateTime.Utc): bigint => BigInt(DateTime.toEpochMillis(t)) * 1_000_000n
