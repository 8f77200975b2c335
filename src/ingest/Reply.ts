/**
 * Webhook replies in the request's encoding. Success: our JSON counts (plus OTLP's
 * `partialSuccess` when spans were rejected) or a binary `ExportTraceServiceResponse`. Errors: a
 * `google.rpc.Status` (`{"code","message"}` JSON, or binary for protobuf requests) whose code is the
 * gRPC code matching the HTTP status; a 503 tells the sender when to retry.
 */
import { statusOf } from "../api/ApiErrors.js"
import type { WebhookRejection } from "../api/WebhookErrors.js"
import { encodeResponse, encodeStatus } from "./OtlpProto.js"

export interface WebhookReply {
  readonly accepted: number
  readonly duplicates: number
  readonly ignored: number
  readonly rejected: number
  /** One line naming the rejected spans and why (present when `rejected` > 0). */
  readonly rejectedMessage?: string
}

export interface HttpReply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string | Uint8Array
}

const JSON_TYPE = "application/json"
const PROTOBUF_TYPE = "application/x-protobuf"
/** Seconds a sender should wait after a 503 (the ledger's own wait for a busy file is 5 s). */
export const RETRY_AFTER_SECONDS = 5

/** google.rpc.Code for the HTTP statuses the webhook answers with. */
const grpcCode = (status: number): number => {
  switch (status) {
    case 400:
    case 415:
      return 3 // INVALID_ARGUMENT
    case 401:
      return 16 // UNAUTHENTICATED
    case 413:
      return 8 // RESOURCE_EXHAUSTED
    case 503:
      return 14 // UNAVAILABLE
    default:
      return 13 // INTERNAL
  }
}

export const success = (reply: WebhookReply, protobuf: boolean): HttpReply => {
  if (protobuf) {
    return {
      status: 200,
      headers: { "content-type": PROTOBUF_TYPE },
      body: encodeResponse(reply.rejected, reply.rejectedMessage ?? "")
    }
  }
  const json: Record<string, unknown> = {
    accepted: reply.accepted,
    duplicates: reply.duplicates,
    ignored: reply.ignored,
    rejected: reply.rejected
  }
  if (reply.rejected > 0) {
    json.partialSuccess = { rejectedSpans: reply.rejected, errorMessage: reply.rejectedMessage ?? "" }
  }
  return { status: 200, headers: { "content-type": JSON_TYPE }, body: JSON.stringify(json) }
}

export const failure = (status: number, message: string, protobuf: boolean): HttpReply => {
  const headers: Record<string, string> = { "content-type": protobuf ? PROTOBUF_TYPE : JSON_TYPE }
  if (status === 503) headers["retry-after"] = String(RETRY_AFTER_SECONDS)
  const code = grpcCode(status)
  return {
    status,
    headers,
    body: protobuf ? encodeStatus(code, message) : JSON.stringify({ code, message })
  }
}

/** A refused request: the status its error declares, its one-line reason. */
export const rejection = (e: WebhookRejection, protobuf: boolean): HttpReply => failure(statusOf(e) ?? 500, e.message, protobuf)
