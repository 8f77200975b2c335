/** The one HTTP error convention: a status per shared error class; one constant-time secret check. */
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import {
  Conflict,
  CrossOriginRefused,
  Forbidden,
  InvalidQuery,
  MethodNotAllowed,
  NotFound,
  statusOf,
  Unauthorized,
  Unavailable
} from "../../src/http/ApiErrors.js"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "../../src/ingest/Errors.js"
import { configuredMatcher, secretMatcher } from "../../src/Secrets.js"

describe("HTTP errors", () => {
  it.each([
    [new InvalidQuery({ message: "m" }), 400],
    [new BadRequest({ message: "m" }), 400],
    [new Unauthorized({ message: "m" }), 401],
    [new Forbidden({ message: "m" }), 403],
    [new CrossOriginRefused({ message: "m" }), 403],
    [new NotFound({ message: "m" }), 404],
    [new MethodNotAllowed({ message: "m" }), 405],
    [new Conflict({ message: "m" }), 409],
    [new PayloadTooLarge({ message: "m" }), 413],
    [new UnsupportedMediaType({ message: "m" }), 415],
    [new Unavailable({ message: "m" }), 503]
  ])("%s declares its status", (error, status) => {
    expect(statusOf(error)).toBe(status)
  })

  it("an error that is not an HTTP error has no status", () => {
    expect(statusOf(new Error("plain"))).toBeUndefined()
    expect(statusOf({ _tag: "X", message: "m" })).toBeUndefined()
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
