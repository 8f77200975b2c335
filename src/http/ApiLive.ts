/** The handlers of every group of `MaiApi`, provided in one place. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as OpenApi from "@effect/platform/OpenApi"
import { Layer } from "effect"
import { MonthsApiLive, StatementsApiLive } from "./AccountingHttp.js"
import { BatchApiLive } from "./BatchHttp.js"
import { BudgetApiLive } from "./BudgetHttp.js"
import { PeopleApiLive } from "./PeopleHttp.js"
import { DocumentsApiLive } from "./DocumentsHttp.js"
import { InvoicesApiLive } from "./InvoiceHttp.js"
import { OverviewApiLive } from "./OverviewHttp.js"
import { ReconciliationApiLive } from "./ReconciliationHttp.js"
import { UsageApiLive } from "./UsageHttp.js"
import { MaiApi } from "../api/Api.js"
import { CODE_VERSION } from "../platform/Version.js"

export const ApiLive = HttpApiBuilder.api(MaiApi.annotate(OpenApi.Version, CODE_VERSION)).pipe(
  Layer.provide([UsageApiLive, BatchApiLive, MonthsApiLive, StatementsApiLive, InvoicesApiLive, ReconciliationApiLive, BudgetApiLive, PeopleApiLive, OverviewApiLive, DocumentsApiLive])
)

/** Errors as `{"error": "…"}` (see ErrorBodies.ts). */
export { ErrorBodiesLive } from "./ErrorBodies.js"
