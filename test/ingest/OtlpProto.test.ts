import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeDelivery } from "../../src/domain/Otlp.js"
import { decodeRequest, decodeResponse, decodeStatus, encodeRequest, encodeResponse, encodeStatus } from "../../src/ingest/OtlpCodec.js"

const request = {
  resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "openrouter" } }] },
    scopeSpans: [{
      spans: [{
        traceId: Buffer.from("0102030405060708090a0b0c0d0e0f10", "hex"),
        spanId: Buffer.from("a1a2a3a4a5a6a7a8", "hex"),
        name: "LLM Generation",
        startTimeUnixNano: "1790606306088123457",
        attributes: [
          { key: "span.type", value: { stringValue: "generation" } },
          { key: "gen_ai.response.id", value: { stringValue: "gen-proto-unit" } },
          { key: "gen_ai.usage.input_tokens", value: { intValue: "999999999999" } },
          { key: "gen_ai.usage.total_cost", value: { doubleValue: 0.0013291 } }
        ],
        status: { code: 1 }
      }]
    }]
  }]
}

describe("OTLP protobuf", () => {
  it("decodes 64-bit fields exactly, into the same shape as OTLP/JSON", () => {
    const decoded = decodeRequest(encodeRequest(request))
    const r = Either.getOrThrow(decodeDelivery(decoded, { clientOrgId: "acme", apiKeyNames: undefined }))
    expect(r.events).toMatchObject([{
      generationId: "gen-proto-unit",
      eventTimeNs: 1790606306088123457n,
      inputTokens: 999_999_999_999,
      costNusd: 1_329_100n
    }])
  })

  it("encodes partial success and google.rpc.Status", () => {
    expect(decodeResponse(encodeResponse(0, ""))).toEqual({})
    expect(decodeResponse(encodeResponse(2, "2 span(s) rejected"))).toEqual({
      partialSuccess: { rejectedSpans: 2, errorMessage: "2 span(s) rejected" }
    })
    expect(decodeStatus(encodeStatus(14, "ledger busy"))).toEqual({ code: 14, message: "ledger busy" })
  })

  it("refuses bytes that are not protobuf", () => {
    expect(() => decodeRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]))).toThrow()
  })
})
