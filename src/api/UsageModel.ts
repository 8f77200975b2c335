/**
 * What the reporting API answers, as schemas: the HTTP contract and the OpenAPI
 * description both come from these. Money and rates are decimal strings, never floats.
 */
import { Schema } from "effect"
import { AdjustmentLine, DayHistory, MonthState } from "./AccountingModel.js"
import { BatchRun } from "./BatchRun.js"
import { Decimal, Priced, pricedColumns, Sums, sumColumns, Tokens, Usage, usageColumns } from "./Fields.js"

export { BatchRun, Tokens }

/** One row of `daily_usage`: one (date, user, model) of one Warsaw day, as billed. */
export class DailyRow extends Schema.Class<DailyRow>("DailyRow")({
  date: Schema.String.annotations({ description: "the Warsaw calendar day of the usage, YYYY-MM-DD" }),
  ...Usage,
  ...Priced
}) {}

export const dailyRowColumns = ["date", ...usageColumns, ...pricedColumns] as const

export class DailyRows extends Schema.Class<DailyRows>("DailyRows")({
  rows: Schema.Array(DailyRow)
}) {}

export class Totals extends Schema.Class<Totals>("Totals")({ ...Sums }) {}

export class DayTotal extends Schema.Class<DayTotal>("DayTotal")({
  date: Schema.String,
  ...Sums,
  rate: Decimal.annotations({ description: "the rate of the day's rows (several, separated by \"; \", only if a day was billed at more than one)" }),
  rateTable: Schema.String,
  rateDate: Schema.String
}) {}
export const dayColumns = ["date", ...sumColumns, "rate", "rateTable", "rateDate"] as const

export class UserTotal extends Schema.Class<UserTotal>("UserTotal")({ user: Schema.String, ...Sums }) {}
export const userColumns = ["user", ...sumColumns] as const

export class ModelTotal extends Schema.Class<ModelTotal>("ModelTotal")({ model: Schema.String, ...Sums }) {}
export const modelColumns = ["model", ...sumColumns] as const

/** An NBP table that converted the costs of a usage day. */
export class RateUsed extends Schema.Class<RateUsed>("RateUsed")({
  usageDate: Schema.String,
  rate: Decimal,
  rateTable: Schema.String,
  rateDate: Schema.String.annotations({ description: "the table's effective date" })
}) {}
export const rateColumns = ["usageDate", "rate", "rateTable", "rateDate"] as const

/** A finished day with usage in the store that no batch run has billed yet. */
export class UnbilledDay extends Schema.Class<UnbilledDay>("UnbilledDay")({
  date: Schema.String,
  requests: Schema.Int,
  costUsd: Decimal,
  withinCatchUp: Schema.Boolean.annotations({
    description: "true: the schedule's catch-up (31 days back) bills it by itself; false: older, bill it by hand"
  }),
  command: Schema.String.annotations({ description: "the command that bills it: mai-usage batch --run-now --date D" })
}) {}

export class MonthSummary extends Schema.Class<MonthSummary>("MonthSummary")({
  month: Schema.String.annotations({ description: "YYYY-MM" }),
  clientOrgId: Schema.String,
  totals: Totals.annotations({ description: "sums of the month's rows and of its adjustments for earlier months" }),
  usageTotals: Totals.annotations({ description: "sums of the month's own rows (its days)" }),
  adjustments: Schema.Array(AdjustmentLine).annotations({
    description: "adjustments for earlier months: differences found for days of closed months, booked into this one"
  }),
  adjustmentsTotals: Totals,
  state: MonthState,
  dayHistory: Schema.Array(DayHistory).annotations({ description: "per day with a batch run: corrected or not, and when" }),
  days: Schema.Array(DayTotal),
  users: Schema.Array(UserTotal),
  models: Schema.Array(ModelTotal),
  rates: Schema.Array(RateUsed),
  lastBatchRun: Schema.NullOr(BatchRun).annotations({ description: "the newest batch run of any day; null before the first" }),
  lastSuccessfulRun: Schema.NullOr(BatchRun),
  standingRun: Schema.NullOr(BatchRun).annotations({
    description: "when the last run failed: the last successful run of the same day, whose figures still stand"
  }),
  unbilledDays: Schema.Array(UnbilledDay).annotations({
    description: "finished days of the month with usage in the store but no successful batch run (not in the totals)"
  })
}) {}

export class TodayRow extends Schema.Class<TodayRow>("TodayRow")({
  ...Usage,
  costUsd: Decimal,
  costPln: Schema.NullOr(Decimal).annotations({ description: "indicative; null when no NBP rate could be had" })
}) {}
export const todayColumns = ["date", ...usageColumns, "costUsd", "costPln"] as const

export class IndicativeRate extends Schema.Class<IndicativeRate>("IndicativeRate")({
  rate: Decimal,
  rateTable: Schema.String,
  rateDate: Schema.String,
  stale: Schema.Boolean.annotations({ description: "true when NBP could not be refreshed and the last good table is used" })
}) {}

const SignedUsd = Schema.String.annotations({ description: "USD as decimal text; negative when the ledger has more" })

/** The newest hourly snapshot of OpenRouter's `GET /key` beside what the ledger received. */
export class KeyDrift extends Schema.Class<KeyDrift>("KeyDrift")({
  takenAt: Schema.String.annotations({ description: "when OpenRouter was asked (UTC, ISO 8601)" }),
  utcDay: Schema.String.annotations({ description: "the UTC day OpenRouter's usage_daily counts" }),
  openRouterUsd: Decimal.annotations({ description: "the key's usage_daily: USD of the UTC day so far" }),
  ledgerUsd: Decimal.annotations({ description: "USD of the ledger's events of the same UTC day so far" }),
  driftUsd: SignedUsd.annotations({ description: "openRouterUsd - ledgerUsd" }),
  interval: Schema.NullOr(Schema.Struct({
    from: Schema.String,
    to: Schema.String,
    openRouterUsd: SignedUsd,
    ledgerUsd: Decimal,
    driftUsd: SignedUsd
  })).annotations({ description: "since the previous snapshot (at most 2 hours before)" })
}) {}

export class TodayUsage extends Schema.Class<TodayUsage>("TodayUsage")({
  date: Schema.String.annotations({ description: "today, in the batch time zone" }),
  timeZone: Schema.String,
  from: Schema.String.annotations({ description: "start of the day (UTC, ISO 8601)" }),
  asOf: Schema.String.annotations({ description: "when these figures were read (UTC, ISO 8601)" }),
  billed: Schema.Literal(false).annotations({ description: "always false: today is billed by tomorrow's batch" }),
  markup: Decimal,
  rate: Schema.NullOr(IndicativeRate).annotations({ description: "the latest NBP table; null when NBP is unreachable" }),
  rateError: Schema.NullOr(Schema.String).annotations({ description: "why there is no PLN figure, when rate is null" }),
  totals: Schema.Struct({ ...Tokens, costUsd: Decimal, costPln: Schema.NullOr(Decimal) }),
  rows: Schema.Array(TodayRow),
  keyDrift: Schema.NullOr(KeyDrift).annotations({
    description: "OpenRouter's own figure for the key today against the ledger's; null without OPENROUTER_API_KEY or before the first snapshot"
  })
}) {}
