/**
 * Which decoder a delivery's Content-Type selects. The usual JSON sender takes a short way
 * (`wantsProtobuf` runs for every delivery); every other spelling is still read as OTLP says.
 */
import type * as Http from "node:http"
import { describe, expect, it } from "vitest"
import { wantsProtobuf } from "../../src/ingest/Webhook.js"

const request = (contentType: string | Array<string> | undefined) =>
  ({ headers: contentType === undefined ? {} : { "content-type": contentType } }) as unknown as Http.IncomingMessage

describe("wantsProtobuf", () => {
  it.each([
    ["application/x-protobuf", true],
    ["application/protobuf", true],
    ["Application/X-Protobuf", true],
    ["application/x-protobuf; charset=binary", true],
    ["  application/protobuf ", true],
    ["application/json", false],
    ["application/json; charset=utf-8", false],
    ["text/plain", false],
    ["application/x-protobuf-json", false],
    ["", false]
  ])("%j → protobuf %s", (type, expected) => {
    expect(wantsProtobuf(request(type))).toBe(expected)
  })

  it("no Content-Type is JSON; a repeated header is read by its first value", () => {
    expect(wantsProtobuf(request(undefined))).toBe(false)
    expect(wantsProtobuf(request(["application/x-protobuf", "application/json"]))).toBe(true)
  })
})
