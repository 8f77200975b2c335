/** The ledger's rows as SQLite returns them, the columns an event is written to, and how a row reads back. */
import type { UsageEvent } from "../domain/UsageEvent.js"
import type { LedgerRow } from "./Ledger.js"
import { fieldOf, SUMMED, type TokenColumns, tokenCounts } from "./Rows.js"

export interface RawRow extends TokenColumns {
  readonly id: bigint
  readonly generation_id: string
  readonly event_time_ns: bigint
  readonly client_org_id: string
  readonly user: string
  readonly model: string
  readonly api_key_name: string
  readonly provider: string
  readonly cost_nusd: bigint
  readonly cost_pending: bigint
  readonly received_at: bigint
  readonly quarantined_at?: bigint | null
  readonly quarantine_reason?: string | null
}

export interface RawRejected {
  readonly id: bigint
  readonly span_key: string
  readonly generation_id: string
  readonly trace_id: string
  readonly span_id: string
  readonly event_time_ns: bigint | null
  readonly client_org_id: string
  readonly user: string
  readonly model: string
  readonly api_key_name: string
  readonly provider: string
  readonly input_tokens: string | null
  readonly output_tokens: string | null
  readonly total_tokens: string | null
  readonly cached_tokens: string | null
  readonly reasoning_tokens: string | null
  readonly cost: string | null
  readonly reason: string
  readonly detail: string
  readonly received_at: bigint
}

/** The ledger_events columns an event is written to, in the order the insert binds them (then received_at). */
export const EVENT_COLUMNS = ["generation_id", "event_time_ns", "client_org_id", "user", "model", "api_key_name", "provider", ...SUMMED] as const
export const EVENT_FIELDS = EVENT_COLUMNS.map((c) => fieldOf(c) as keyof UsageEvent)

export const ledgerRow = (r: RawRow): LedgerRow => ({
  id: r.id,
  ...(Object.fromEntries(EVENT_COLUMNS.map((c) => [fieldOf(c), r[c]])) as unknown as UsageEvent),
  ...tokenCounts(r),
  costNusd: Number(r.cost_pending) === 1 ? null : BigInt(r.cost_nusd),
  receivedAtMs: Number(r.received_at)
})

/** The figures a redelivery is compared on (the cost only when it carries one). */
export const FIGURE_COLUMNS = [
  "user", "model", "api_key_name", "input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens"
] as const
export const FIGURE_FIELDS = FIGURE_COLUMNS.map((c) => fieldOf(c) as keyof UsageEvent)
