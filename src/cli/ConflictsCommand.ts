/**
 * `mai-usage conflicts list [--limit N] [--json]`: redeliveries of a generation whose figures
 * (tokens, cost, user, model, key) differed from the stored ones, newest first, each beside the
 * stored (billed) version. The stored figures stay; nothing was dropped without a trace.
 */
import { formatUsd } from "../domain/Money.js"
import type { ConflictFigures, ConflictRow } from "../store/Ledger.js"
import { ledgerListCommand } from "./LedgerCli.js"
import { plural } from "./Output.js"

const figures = (f: ConflictFigures) =>
  `user=${JSON.stringify(f.user.slice(0, 80))} model=${JSON.stringify(f.model.slice(0, 80))} key=${JSON.stringify(f.apiKeyName.slice(0, 80))} ` +
  `in=${f.inputTokens} out=${f.outputTokens} total=${f.totalTokens} cached=${f.cachedTokens} reasoning=${f.reasoningTokens} ` +
  `cost=${f.costNusd === null ? "none" : `${formatUsd(f.costNusd)} USD`}`

export const describeConflict = (c: ConflictRow): string =>
  `${new Date(c.lastReceivedAtMs).toISOString()} ${c.generationId.slice(0, 80)} received ${plural(c.times, "time")}: ` +
  `${figures(c.received)}; stored (billed): ${figures(c.stored)}`

const toJson = (c: ConflictRow) =>
  JSON.stringify(c, (_, v) => (typeof v === "bigint" ? String(v) : v))

export const conflictsCommand = ledgerListCommand(
  "conflicts",
  "Inspect redeliveries whose figures differ from the stored ones",
  {
    description: "List redeliveries whose figures differed from the stored ones (kept; the stored ones are billed), newest first",
    limit: "how many to list, newest first"
  },
  (ledger, limit) => ledger.conflicts(limit),
  { toJson, line: describeConflict, none: "no conflicting redeliveries", summary: (listed) => `${plural(listed, "conflict")} listed` }
)
