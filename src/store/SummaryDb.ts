/**
 * The summary database (`USAGE_SUMMARY_DB`): its own tag, so that it never mixes with the ledger's
 * SQL client in one context. Its tables have owners: billing's (`billing/migrations.ts`), read and
 * written only by `billing/SummaryRepo.ts`, and reconciliation's (`openrouter/migrations.ts`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Layer, Schema } from "effect"
import { sqliteLayer } from "../platform/Sqlite.js"

export class SummaryDb extends Context.Tag("mai-usage/SummaryDb")<SummaryDb, SqlClient.SqlClient>() {}

/** The summary DB could not be read or written. */
export class SummaryDbError extends Schema.TaggedError<SummaryDbError>()("SummaryDbError", {
  message: Schema.String
}) {}

/** The one wording of a failed statement: `summary DB <what> failed: <cause>`. */
export const summaryDbFailed = (what: string) => (cause: unknown) =>
  new SummaryDbError({ message: `summary DB ${what} failed: ${String((cause as { cause?: unknown }).cause ?? cause)}` })

/** Opens the file; each owner of tables in it applies its own migrations (`billing/`, `openrouter/`). */
export const layer = (filename: string) =>
  Layer.effect(SummaryDb, SqlClient.SqlClient).pipe(Layer.provide(sqliteLayer(filename)))
