/**
 * Why a webhook request is refused: HTTP errors of the shared convention (`http/ApiErrors.ts`),
 * each with its status as an annotation and a one-line reason. The webhook answers them as a
 * `google.rpc.Status` (`Reply.ts`), not as the JSON API's `{"error"}`.
 */
import { Schema } from "effect"
import { answered, message, Unauthorized, Unavailable } from "./ApiErrors.js"

export { Unauthorized, Unavailable }

/** Not an OTLP export at all (malformed JSON or protobuf, not a trace export, unreadable body). */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", message, answered(400, "Not a valid OTLP request")) {}

/** The body passes `MAX_BODY_BYTES`, as received or after decompression. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  message,
  answered(413, "Body larger than MAX_BODY_BYTES (after decompression)")
) {}

/** A `Content-Encoding` other than identity, gzip or deflate. */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  message,
  answered(415, "An unknown Content-Encoding")
) {}

export type WebhookRejection = Unauthorized | BadRequest | PayloadTooLarge | UnsupportedMediaType | Unavailable
