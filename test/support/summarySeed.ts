/**
 * Writes rows into a running app's summary DB exactly as the daily batch does (the file is the
 * contract between the batch and the reports): cost_pln = round_half_up(cost_usd × markup × rate, 2),
 * rates from the real NBP fixture tables.
 */
import Database from "better-sqlite3"
import { BigDecimal } from "effect"
import * as Path from "node:path"
import { costPln, formatDecimal, formatUsd, parseNanoUsd } from "../../src/domain/Money.js"
import { fixtureTables } from "./nbpStandIn.js"

export interface SeedRow {
  readonly date: string
  readonly user: string
  readonly model: string
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedTokens?: number
  readonly reasoningTokens?: number
  /** USD as decimal text */
  readonly costUsd: string
}

/** The NBP table of the last business day before `day` (the default rule). */
export const previousTable = (day: string) => {
  const tables = fixtureTables().filter((t) => t.effectiveDate < day)
  return tables[tables.length - 1]
}

export const seedRows = (dataDir: string, rows: ReadonlyArray<SeedRow>, options: { clientOrgId?: string; markup?: string } = {}) => {
  const db = new Database(Path.join(dataDir, "usage_summary.db"))
  const markup = options.markup ?? "1.3"
  const org = options.clientOrgId ?? "default"
  const insert = db.prepare(`INSERT OR REPLACE INTO daily_usage (usage_date, client_org_id, user, model, requests,
    input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nusd, cost_usd, markup, rate,
    rate_table, rate_date, cost_pln, batch_run_id, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`)
  try {
    db.transaction(() => {
      for (const r of rows) {
        const nusd = parseNanoUsd(r.costUsd)
        if (nusd._tag === "Left") throw new Error(nusd.left)
        const table = previousTable(r.date)
        const pln = costPln(nusd.right, BigDecimal.unsafeFromString(markup), BigDecimal.unsafeFromString(table.mid))
        insert.run(
          r.date, org, r.user, r.model, r.requests, r.inputTokens, r.outputTokens, r.inputTokens + r.outputTokens,
          r.cachedTokens ?? 0, r.reasoningTokens ?? 0, nusd.right, formatUsd(nusd.right), markup, table.mid,
          table.no, table.effectiveDate, formatDecimal(pln, 2), new Date().toISOString()
        )
      }
    })()
  } finally {
    db.close()
  }
}

export interface SeedRun {
  readonly usageDate: string
  readonly status: "running" | "succeeded" | "failed"
  readonly startedAt: string
  readonly finishedAt?: string
  readonly error?: string
  readonly rowsWritten?: number
}

export const seedRun = (dataDir: string, run: SeedRun, clientOrgId = "default") => {
  const db = new Database(Path.join(dataDir, "usage_summary.db"))
  try {
    const table = previousTable(run.usageDate)
    db.prepare(`INSERT INTO batch_runs (usage_date, client_org_id, trigger, started_at, finished_at, status, events,
      rows_written, corrections, rate, rate_table, markup, source, code_version, error)
      VALUES (?, ?, 'schedule', ?, ?, ?, ?, ?, 0, ?, ?, '1.3', 'ledger', 'test', ?)`).run(
      run.usageDate, clientOrgId, run.startedAt, run.finishedAt ?? null, run.status,
      run.status === "succeeded" ? 10 : null, run.rowsWritten ?? null,
      run.status === "succeeded" ? table.mid : null, run.status === "succeeded" ? table.no : null, run.error ?? null
    )
  } finally {
    db.close()
  }
}

/** A tricky user id: a comma, quotes and Polish letters (CSV must quote it; UTF-8 must keep it). */
export const TRICKY_USER = "Łukasz \"Łuki\" Żółć, Kraków"

/** A month and a half of rows: October (with a total over 1 000 zł) and a little of November. */
export const sampleRows: ReadonlyArray<SeedRow> = [
  { date: "2025-10-06", user: "anna.kowalska@example.pl", model: "openai/gpt-4o", requests: 12, inputTokens: 12000, outputTokens: 3400, cachedTokens: 2000, costUsd: "0.412345" },
  { date: "2025-10-06", user: TRICKY_USER, model: "anthropic/claude-sonnet-4", requests: 3, inputTokens: 5000, outputTokens: 900, costUsd: "0.012345" },
  { date: "2025-10-07", user: "anna.kowalska@example.pl", model: "anthropic/claude-sonnet-4", requests: 40, inputTokens: 800000, outputTokens: 120000, reasoningTokens: 30000, costUsd: "231.5" },
  { date: "2025-10-07", user: "bot-1", model: "google/gemini-2.5-pro", requests: 7, inputTokens: 70000, outputTokens: 7000, costUsd: "1.07" },
  { date: "2025-10-09", user: TRICKY_USER, model: "openai/gpt-4o", requests: 5, inputTokens: 9000, outputTokens: 1500, costUsd: "0.093" },
  { date: "2025-10-09", user: "bot-1", model: "openai/gpt-4o", requests: 100, inputTokens: 100000, outputTokens: 20000, costUsd: "12.000001" },
  { date: "2025-11-04", user: "anna.kowalska@example.pl", model: "openai/gpt-4o", requests: 2, inputTokens: 2000, outputTokens: 300, costUsd: "0.05" }
]
