/**
 * Every error of the JSON API answers one clear line: `{"error": "…"}` with the error's status
 * (`statusOf`, see `ApiErrors.ts`). The library would answer a bad query with its parse tree
 * (`Expected undefined, actual "xml"` under tree characters) and our own errors as
 * `{"_tag", "message"}`; this middleware gives them all the one shape, and `errorBodiesInOpenApi`
 * describes that shape in the OpenAPI document.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import type { ParseResult } from "effect"
import { statusOf } from "../api/ApiErrors.js"

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
