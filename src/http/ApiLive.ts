/** The handlers of every group of `MaiApi`, provided in one place. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Layer } from "effect"
import { MonthsApiLive, StatementsApiLive } from "../accounting/AccountingApiLive.js"
import { BatchApiLive } from "../batch/BatchApiLive.js"
import { ReconciliationApiLive } from "../openrouter/ReconciliationApiLive.js"
import { UsageApiLive } from "../reporting/ReportApiLive.js"
import { MaiApi } from "./Api.js"

export const ApiLive = HttpApiBuilder.api(MaiApi).pipe(
  Layer.provide([UsageApiLive, BatchApiLive, MonthsApiLive, StatementsApiLive, ReconciliationApiLive])
)

/** Errors as `{"error": "…"}` (see ErrorBodies.ts). */
export { ErrorBodiesLive } from "./ErrorBodies.js"
