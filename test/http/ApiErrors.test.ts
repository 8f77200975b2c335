/** The one HTTP error convention: a status per shared error class; one constant-time secret check. */
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as Http from "../../src/api/ApiErrors.js"
import * as Webhook from "../../src/api/WebhookErrors.js"
import { configuredMatcher, secretMatcher } from "../../src/platform/Secrets.js"

describe("HTTP errors", () => {
  it.each([
    [Http.InvalidQuery, 400],
    [Webhook.BadRequest, 400],
    [Http.Unauthorized, 401],
    [Http.Forbidden, 403],
    [Http.CrossOriginRefused, 403],
    [Http.NotFound, 404],
    [Http.MethodNotAllowed, 405],
    [Http.Conflict, 409],
    [Webhook.PayloadTooLarge, 413],
    [Webhook.UnsupportedMediaType, 415],
    [Http.Unavailable, 503]
  ] as const)("%o declares its status", (ErrorClass, status) => {
    expect(Http.statusOf(new ErrorClass({ message: "m" }))).toBe(status)
  })

  it("an error that is not an HTTP error has no status", () => {
    expect(Http.statusOf(new Error("plain"))).toBeUndefined()
    expect(Http.statusOf({ _tag: "X", message: "m" })).toBeUndefined()
  })
})

describe("secretMatcher", () => {
  const matches = secretMatcher(["first-secret-0123456789", "second-secret-0123456789"])

  it("accepts any of the secrets, exactly", () => {
    expect(matches("first-secret-0123456789")).toBe(true)
    expect(matches("second-secret-0123456789")).toBe(true)
    expect(matches("first-secret-012345678")).toBe(false)
    expect(matches("first-secret-0123456789 ")).toBe(false)
    expect(matches("x")).toBe(false)
  })

  it("never accepts an empty candidate, nor anything without secrets", () => {
    expect(matches("")).toBe(false)
    expect(secretMatcher([])("anything")).toBe(false)
    expect(secretMatcher([""])("")).toBe(false)
  })

  it("ignores configured secrets too short to be used", () => {
    const configured = configuredMatcher([Redacted.make("short"), Redacted.make("long-enough-secret-0123")])
    expect(configured("short")).toBe(false)
    expect(configured("long-enough-secret-0123")).toBe(true)
  })
})
