/**
 * The HTTP contract of the JSON API, declared apart from its handlers. Each capability adds its
 * group here; `ApiLive.ts` provides the handlers.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { MonthsApi, StatementsApi } from "./AccountingApi.js"
import { BadRequest, PayloadTooLarge, Unauthorized, Unavailable, UnsupportedMediaType } from "./WebhookErrors.js"
import { BatchApi } from "./BatchApi.js"
import { BudgetApi } from "./BudgetApi.js"
import { PeopleApi } from "./PeopleApi.js"
import { DocumentsApi } from "./DocumentsApi.js"
import { InvoicesApi } from "./InvoiceApi.js"
import { OverviewApi } from "./OverviewApi.js"
import { ReconciliationApi } from "./ReconciliationApi.js"
import { UsageApi } from "./UsageApi.js"
import { errorBodiesInOpenApi } from "./OpenApiErrors.js"

/** What each refusal of the webhook means; its status is the error's own (`ingest/Errors.ts`). */
const webhookRefusals = Object.fromEntries(
  ([
    [BadRequest, "Not a valid OTLP request: nothing stored (a google.rpc.Status body for OTLP senders)"],
    [Unauthorized, "Missing or wrong webhook secret"],
    [PayloadTooLarge, "Body larger than MAX_BODY_BYTES (as received or after decompression)"],
    [UnsupportedMediaType, "A Content-Encoding other than gzip or deflate"],
    [Unavailable, "The ledger cannot be written: nothing stored, retry (Retry-After)"]
  ] as const).map(([error, description]) => [String(HttpApiSchema.getStatusError(error)), { description }])
)

/**
 * The webhook is served by the raw `node:http` handler (the hot path), not by `HttpApi`, so its
 * operation is written here by hand.
 */
const webhookOperation = (path: string, summary: string) => ({
  post: {
    tags: ["Webhook"],
    operationId: path === "/v1/traces" ? "webhook.otlpTraces" : "webhook.openrouter",
    summary,
    description:
      "OpenRouter Broadcast delivers OTLP/HTTP traces here (JSON or protobuf, optionally gzip). Each " +
      "generation span's usage (tokens, cost in USD) is stored in the ledger before the answer; prompts and " +
      "completions are never stored. Authentication: `Authorization: Bearer <OPENROUTER_WEBHOOK_SECRET>` " +
      "(any of the comma-separated values). A redelivery of a stored generation counts as a duplicate, once.",
    security: [{ webhookBearer: [] }],
    requestBody: {
      required: true,
      content: {
        "application/json": { schema: { type: "object", description: "OTLP ExportTraceServiceRequest (JSON)" } },
        "application/x-protobuf": { schema: { type: "string", format: "binary", description: "OTLP ExportTraceServiceRequest (protobuf)" } }
      }
    },
    responses: {
      "200": {
        description: "Stored (in the reply's encoding: JSON or protobuf, with partialSuccess for rejected spans)",
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: { accepted: { type: "integer" }, duplicates: { type: "integer" }, ignored: { type: "integer" } }
            }
          }
        }
      },
      ...webhookRefusals
    }
  }
})

const withWebhook = (spec: Record<string, any>): Record<string, any> => {
  spec.paths = {
    "/api/v1/webhooks/openrouter": webhookOperation("/api/v1/webhooks/openrouter", "Receive OpenRouter Broadcast usage"),
    "/v1/traces": webhookOperation("/v1/traces", "The same webhook at OTLP's default path"),
    ...spec.paths
  }
  spec.components = spec.components ?? {}
  spec.components.securitySchemes = {
    ...spec.components.securitySchemes,
    webhookBearer: { type: "http", scheme: "bearer", description: "OPENROUTER_WEBHOOK_SECRET" }
  }
  spec.tags = [{ name: "Webhook", description: "OpenRouter Broadcast (OTLP/HTTP)" }, ...(spec.tags ?? [])]
  return spec
}

export class MaiApi extends HttpApi.make("mai-usage")
  .add(UsageApi)
  .add(BatchApi)
  .add(MonthsApi)
  .add(StatementsApi)
  .add(InvoicesApi)
  .add(ReconciliationApi)
  .add(BudgetApi)
  .add(PeopleApi)
  .add(OverviewApi)
  .add(DocumentsApi)
  .annotateContext(OpenApi.annotations({
    title: "mai-usage",
    description: "Usage and costs of one client organisation: daily summaries in USD and PLN at the NBP rate. " +
      "Every error answers `{\"error\": \"…\"}`, one line.",
    transform: (spec) => withWebhook(errorBodiesInOpenApi(spec))
  }))
{}
