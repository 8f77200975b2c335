/**
 * The errors every HTTP interface of the service answers with.
 *
 * One convention: an error that is an HTTP answer is a `Schema.TaggedError` whose status is its
 * `HttpApiSchema.annotations({ status })`, read back with `statusOf`. The JSON API's groups declare
 * these shared classes; the webhook and the NBP service answer with them too (each in its own
 * body shape). Domain errors carry no status: a `*Live` handler maps them to one of these.
 * The JSON API answers them as `{"error": "…"}` (`ErrorBodies.ts`).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** The one field of every shared error: what was wrong, in one line. */
export const message = { message: Schema.String }
/** The annotations of an HTTP error: its status, and what it means in the OpenAPI document. */
export const answered = <A>(status: number, description: string) => HttpApiSchema.annotations<A>({ status, description })

/** Parameters that parse but make no sense, or a request that cannot be used: 400. */
export class InvalidQuery extends Schema.TaggedError<InvalidQuery>()("InvalidQuery", message, answered(400, "The parameters are not valid")) {}

/** No credential, or not a valid one: 401. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  message,
  answered(401, "Admin authentication required (Authorization: Bearer <ADMIN_TOKEN>)")
) {}

/** A cookie-authenticated state change that did not come from the dashboard: 403. */
export class CrossOriginRefused extends Schema.TaggedError<CrossOriginRefused>()(
  "CrossOriginRefused",
  message,
  answered(403, "A state-changing request with the dashboard's session cookie that did not come from the dashboard's own page")
) {}

/** Authenticated or not, the action is switched off here: 403 (the NBP service's cache clearing without a token). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", message, answered(403, "The action is disabled")) {}

/** What was asked for does not exist: 404. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", message, answered(404, "Nothing found for the request")) {}

/** The method is not the route's: 405 (the NBP service, with `Allow`). */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()(
  "MethodNotAllowed",
  message,
  answered(405, "The path does not take this method")
) {}

/**
 * Refused in the current state, nothing changed: 409 (another batch run holds the lock; a month's
 * preconditions are not met).
 */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  message,
  answered(409, "Refused as asked (another run in progress, preconditions not met); the message says why. Nothing changed.")
) {}

/** Temporary: a store (the summary DB, the usage store, the ledger, NBP) could not be used: 503. */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  message,
  answered(503, "The data could not be read or written, or a batch run held the lock; try again")
) {}

/** A store's or service's failure as the 503 the API answers (its one-line message kept). */
export const unavailable = (e: { readonly message: string }): Unavailable => new Unavailable({ message: e.message })

/** The status an HTTP error declares (`HttpApiSchema.annotations({ status })`), if it is one. */
export const statusOf = (e: object): number | undefined => {
  const ctor = (e as { constructor?: unknown }).constructor as { ast?: unknown } | undefined
  return ctor !== undefined && ctor.ast !== undefined ? HttpApiSchema.getStatusError(ctor as any) : undefined
}
