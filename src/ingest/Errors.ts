/** Why a webhook request is refused; each carries its HTTP status and a one-line reason. */
import { Schema } from "effect"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", { message: Schema.String }) {
  readonly status = 401
}
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { message: Schema.String }) {
  readonly status = 400
}
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String
}) {
  readonly status = 413
}
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  message: Schema.String
}) {
  readonly status = 415
}
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  message: Schema.String
}) {
  readonly status = 503
}

export type WebhookRejection = Unauthorized | BadRequest | PayloadTooLarge | UnsupportedMediaType | StoreUnavailable
