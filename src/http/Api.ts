/**
 * The HTTP contract of the JSON API, declared apart from its handlers. Each capability adds its
 * group here; `ApiLive.ts` provides the handlers.
 */
import { HttpApi, OpenApi } from "@effect/platform"
import { MonthsApi, StatementsApi } from "../accounting/AccountingApi.js"
import { BatchApi } from "../batch/BatchApi.js"
import { ReconciliationApi } from "../openrouter/ReconciliationApi.js"
import { UsageApi } from "../reporting/ReportApi.js"

export class MaiApi extends HttpApi.make("mai-usage")
  .add(UsageApi)
  .add(BatchApi)
  .add(MonthsApi)
  .add(StatementsApi)
  .add(ReconciliationApi)
  .annotateContext(OpenApi.annotations({
    title: "mai-usage",
    description: "Usage and costs of one client organisation: daily summaries in USD and PLN at the NBP rate."
  }))
{}
