/**
 * The errors every HTTP interface of the service answers with, and how they are answered.
 *
 * One convention: an error that is an HTTP answer is a `Schema.TaggedError` whose status is its
 * `HttpApiSchema.annotations({ status })`, read back with `statusOf`. The JSON API's groups declare
 * these shared classes; the webhook and the NBP service answer with them too (each in its own
 * body shape). Domain errors carry no status: a `*Live` handler maps them to one of these.
 *
 * Every error of the JSON API answers one clear line: `{"error": "…"}` with the error's status.
 * The library would answer a bad query with its parse tree (`Expected undefined, actual "xml"`
 * under tree characters) and our own errors as `{"_tag", "message"}`; this middleware gives them
 * all the one shape, and `errorBodiesInOpenApi` describes that shape in the OpenAPI document.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Schema } from "effect"
import type { ParseResult } from "effect"

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

/** What was asked for does not exist: 404. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", message, answered(404, "Nothing found for the request")) {}

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

type Issue = ParseResult.ArrayFormatterIssue

/** `format: Expected "json" | "csv", actual "xml"`: the first issue, on one line. */
export const decodeErrorLine = (e: HttpApiDecodeError): string => {
  const issue: Issue | undefined = e.issues[0]
  if (issue === undefined) return e.message.split("\n")[0]
  const pathOf = (i: Issue) => i.path.map(String).join(".")
  const path = pathOf(issue)
  const same = e.issues.filter((i) => pathOf(i) === path)
  const expected = same.map((i) => /^Expected (.+), actual (.+)$/s.exec(i.message))
  // A literal union fails once per member: "expected "json" or "csv", got "xml"".
  const text = same.length > 1 && expected.every((m) => m !== null && m[2] === expected[0]![2])
    ? `expected ${expected.map((m) => m![1]).filter((x) => x !== "undefined").join(" or ")}, got ${expected[0]![2]}`
    : issue.message.replace(/\s*\n\s*/g, " ").trim()
  const others = e.issues.length - same.length
  return `${path === "" ? "" : `${path}: `}${text}${others > 0 ? ` (and ${others} more)` : ""}`
}

/** The status an HTTP error declares (`HttpApiSchema.annotations({ status })`), if it is one. */
export const statusOf = (e: object): number | undefined => {
  const ctor = (e as { constructor?: unknown }).constructor as { ast?: unknown } | undefined
  return ctor !== undefined && ctor.ast !== undefined ? HttpApiSchema.getStatusError(ctor as any) : undefined
}

const errorResponse = (e: unknown): Effect.Effect<HttpServerResponse.HttpServerResponse> | undefined => {
  if (e instanceof HttpApiDecodeError) {
    return Effect.succeed(HttpServerResponse.unsafeJson({ error: decodeErrorLine(e) }, { status: 400 }))
  }
  if (typeof e !== "object" || e === null || !("_tag" in e) || !("message" in e) || typeof e.message !== "string") {
    return undefined
  }
  const status = statusOf(e)
  if (status === undefined) return undefined
  // Fields beyond the message stay (e.g. the per-day results of a failed batch request).
  const { _tag, message, ...rest } = e as unknown as Record<string, unknown>
  void _tag
  return Effect.succeed(HttpServerResponse.unsafeJson({ error: String(message).split("\n")[0], ...rest }, { status }))
}

export const ErrorBodiesLive = HttpApiBuilder.middleware((app) =>
  Effect.catchAll(app, (e) => errorResponse(e) ?? Effect.fail(e))
)

/** The OpenAPI side: every error schema becomes `{ error: string, … }` like the answers. */
export const errorBodiesInOpenApi = (spec: Record<string, any>): Record<string, any> => {
  const schemas = spec.components?.schemas ?? {}
  for (const [name, schema] of Object.entries<any>(schemas)) {
    const props = schema?.properties
    if (props === undefined || props._tag === undefined || props.message === undefined) continue
    const { _tag, message, issues, ...rest } = props
    void _tag, void message, void issues
    schemas[name] = {
      ...schema,
      required: ["error", ...(schema.required ?? []).filter((k: string) => !["_tag", "message", "issues"].includes(k))],
      properties: { error: { type: "string", description: "what was wrong, in one line" }, ...rest }
    }
  }
  return spec
}
