/**
 * The admin batch API: run the daily batch for a day or a range of days, list the runs.
 * Behind `AdminAuth`. Handlers in `BatchApiLive.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { adminGroup } from "./AdminAuth.js"
import { Conflict, InvalidQuery, Unavailable } from "./ApiErrors.js"
import { BatchRun } from "./BatchRun.js"

/** One day's outcome of a POST /run. */
export class RunOutcome extends Schema.Class<RunOutcome>("RunOutcome")({
  usageDate: Schema.String,
  status: Schema.Literal("succeeded", "failed"),
  runId: Schema.NullOr(Schema.Number),
  events: Schema.NullOr(Schema.Number),
  rows: Schema.NullOr(Schema.Number),
  corrections: Schema.NullOr(Schema.Number),
  totalUsd: Schema.NullOr(Schema.String),
  totalPln: Schema.NullOr(Schema.String),
  rate: Schema.NullOr(Schema.String),
  rateTable: Schema.NullOr(Schema.String),
  rateDate: Schema.NullOr(Schema.String),
  markup: Schema.NullOr(Schema.String),
  source: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
}) {}

export class RunResults extends Schema.Class<RunResults>("RunResults")({
  results: Schema.Array(RunOutcome)
}) {}

/** At least one day of a POST /run failed (recorded as failed; no rows written for it). */
export class BatchRunsFailed extends Schema.TaggedError<BatchRunsFailed>()(
  "BatchRunsFailed",
  { message: Schema.String, results: Schema.Array(RunOutcome) },
  HttpApiSchema.annotations({ status: 503, description: "A run failed (e.g. NBP unreachable); it can be retried" })
) {}

export class BatchRuns extends Schema.Class<BatchRuns>("BatchRuns")({
  runs: Schema.Array(BatchRun)
}) {}

export class BatchApi extends adminGroup("batch")
  .add(
    HttpApiEndpoint.post("run", "/run")
      .setUrlParams(Schema.Struct({
        date: Schema.optional(Schema.String),
        from: Schema.optional(Schema.String),
        to: Schema.optional(Schema.String)
      }))
      .addSuccess(RunResults)
      .addError(InvalidQuery)
      .addError(Conflict)
      .addError(BatchRunsFailed)
      .annotateContext(OpenApi.annotations({
        description: "Runs the daily batch for `date` (a Warsaw day, YYYY-MM-DD; default yesterday) or each day " +
          "of `from`..`to`, oldest first, one run at a time: the same program as the schedule and the CLI."
      }))
  )
  .add(
    HttpApiEndpoint.get("runs", "/runs")
      .setUrlParams(Schema.Struct({
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)))
      }))
      .addSuccess(BatchRuns)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({ description: "Batch runs, newest first (default limit 50)." }))
  )
  .prefix("/api/v1/admin/batch")
{}
