/**
 * `mai-usage rejected list [--limit N] [--json]`: the quarantine of rejected spans, newest first —
 * the spans whose usage broke a bound (negative, fractional or huge token counts, a malformed or
 * out-of-range cost, an over-long user, model, key, provider or id), with the reason and the
 * numbers as received. They were not billed; the rest of their delivery was.
 */
import { plural } from "./Output.js"
import { ledgerListCommand } from "./LedgerCli.js"
import type { RejectedRow } from "../store/Ledger.js"

const usage = (r: RejectedRow) =>
  [
    ["cost", r.cost],
    ["in", r.inputTokens],
    ["out", r.outputTokens],
    ["total", r.totalTokens],
    ["cached", r.cachedTokens],
    ["reasoning", r.reasoningTokens]
  ].filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ")

/** One line per span: when, reason, id, who and what, the numbers as received, the detail. */
export const describeRejected = (r: RejectedRow): string =>
  `#${r.id} ${new Date(r.receivedAtMs).toISOString()} ${r.reason} ${r.generationId.slice(0, 80) || "(no id)"} ` +
  `user=${JSON.stringify(r.user.slice(0, 80))} model=${JSON.stringify(r.model.slice(0, 80))} ${usage(r)}: ${r.detail}`

export const toJson = (r: RejectedRow) =>
  JSON.stringify({ ...r, eventTimeNs: r.eventTimeNs === null ? null : String(r.eventTimeNs) })

export const rejectedCommand = ledgerListCommand(
  "rejected",
  "Inspect webhook spans rejected as invalid usage",
  { description: "List the quarantined spans (invalid usage, not billed), newest first, with their reasons", limit: "how many spans to list, newest first" },
  (ledger, limit) => ledger.rejectedSpans(limit),
  { toJson, line: describeRejected, none: "no rejected spans", summary: (listed) => `${plural(listed, "rejected span")} listed` }
)
