/**
 * What a batch run reports: its result, its two ways of failing, and the code version recorded
 * with every run. A run that started is recorded in batch_runs (started → succeeded | failed).
 */
import { Cause, Option, Schema } from "effect"
import type { Trigger } from "./SummaryRepo.js"

export type { Trigger } from "./SummaryRepo.js"

/** A run that started and failed: recorded as failed in batch_runs, nothing written. */
export class BatchRunFailed extends Schema.TaggedError<BatchRunFailed>()("BatchRunFailed", {
  day: Schema.String,
  runId: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

/** Another run holds the batch lock and did not release it in time. No run was recorded. */
export class BatchBusy extends Schema.TaggedError<BatchBusy>()("BatchBusy", {
  day: Schema.String,
  message: Schema.String
}) {}

export type BatchError = BatchRunFailed | BatchBusy

export interface RunResult {
  readonly runId: number
  readonly day: string
  readonly trigger: Trigger
  readonly events: number
  /** rows the day has after the run */
  readonly rows: number
  /** rows inserted, updated or deleted */
  readonly rowsChanged: number
  readonly corrections: number
  /** sums of the rows, so they always match the lines shown */
  readonly totalUsd: string
  readonly totalPln: string
  /** null when the day had no usage and no rate was needed */
  readonly rate: string | null
  readonly rateTable: string | null
  readonly rateDate: string | null
  readonly markup: string
  readonly source: "ledger" | "influxdb"
  /**
   * Set when the day's month is closed: its rows were left as they are and the differences were
   * booked as adjustment rows into this month (0 rows when nothing differed).
   */
  readonly adjustedInto: { readonly month: string; readonly rows: number } | null
}

const messageOf = (e: unknown): string => {
  if (typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "") {
    return e.message
  }
  return String(e)
}

/** The one line a failed run is recorded with: the error's message, or the defect's first line. */
export const failureLine = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => `unexpected error: ${Cause.pretty(cause).split("\n")[0]}`,
    onSome: messageOf
  })
