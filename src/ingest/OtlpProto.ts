/**
 * OTLP's binary protobuf encoding, loaded on first use: protobufjs and the message definitions
 * (`OtlpCodec.ts`) cost memory that a container whose sender speaks JSON never needs. The server
 * calls `loadOtlpCodec()` before it handles a protobuf request; after that the codec is synchronous.
 */
type Codec = typeof import("./OtlpCodec.js")

let codec: Codec | undefined
let loading: Promise<Codec> | undefined

/** Loads the codec once (later calls share the same promise). */
export const loadOtlpCodec = (): Promise<Codec> =>
  (loading ??= import("./OtlpCodec.js").then((m) => (codec = m)))

/** True once the codec is loaded. */
export const otlpCodecLoaded = (): boolean => codec !== undefined

const loaded = (): Codec => {
  if (codec === undefined) throw new Error("the OTLP protobuf codec is not loaded yet (loadOtlpCodec)")
  return codec
}

export const decodeRequest = (body: Uint8Array) => loaded().decodeRequest(body)
export const encodeResponse = (rejectedSpans: number, errorMessage: string): Uint8Array =>
  loaded().encodeResponse(rejectedSpans, errorMessage)
export const encodeStatus = (code: number, message: string): Uint8Array => loaded().encodeStatus(code, message)
