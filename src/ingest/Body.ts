/**
 * Reading a webhook body in two steps. First the raw bytes as received, capped at `maxBytes`
 * (what an unauthenticated sender can make us hold), so an HMAC signature is checked over exactly
 * those bytes before anything is decompressed. Then, for an authentic request only, gzip/deflate is
 * inflated with the same cap on the output (a gzip bomb stops at the cap, off the event loop).
 */
import { Effect } from "effect"
import type * as Http from "node:http"
import * as Zlib from "node:zlib"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "../api/WebhookErrors.js"

export type ContentEncoding = "identity" | "gzip" | "deflate"

const tooLarge = (maxBytes: number) =>
  new PayloadTooLarge({ message: `body exceeds MAX_BODY_BYTES (${maxBytes} bytes)` })

/** The request's Content-Encoding, or 415 for one we do not speak. */
export const contentEncoding = (req: Http.IncomingMessage): Effect.Effect<ContentEncoding, UnsupportedMediaType> => {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim()
  if (encoding === "identity" || encoding === "") return Effect.succeed("identity")
  if (encoding === "gzip" || encoding === "x-gzip") return Effect.succeed("gzip")
  if (encoding === "deflate") return Effect.succeed("deflate")
  return Effect.fail(new UnsupportedMediaType({ message: `unsupported Content-Encoding: ${encoding.slice(0, 40)}` }))
}

/** The raw bytes as received, refused (413) as soon as they pass `maxBytes`. */
export const readRaw = (req: Http.IncomingMessage, maxBytes: number): Effect.Effect<Buffer, PayloadTooLarge | BadRequest> =>
  Effect.async<Buffer, PayloadTooLarge | BadRequest>((resume) => {
    const declared = Number(req.headers["content-length"])
    if (declared > maxBytes) return resume(Effect.fail(tooLarge(maxBytes)))
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    const finish = (result: Effect.Effect<Buffer, PayloadTooLarge | BadRequest>) => {
      if (done) return
      done = true
      req.removeListener("data", onData)
      resume(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        chunks.length = 0
        return finish(Effect.fail(tooLarge(maxBytes)))
      }
      chunks.push(chunk)
    }
    req.on("data", onData)
    req.on("end", () => finish(Effect.succeed(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))))
    req.on("error", () => finish(Effect.fail(new BadRequest({ message: "request body could not be read" }))))
    req.on("aborted", () => finish(Effect.fail(new BadRequest({ message: "request aborted" }))))
  })

/** The decompressed body, refused (413) when it would pass `maxBytes`. */
export const inflate = (
  raw: Buffer,
  encoding: ContentEncoding,
  maxBytes: number
): Effect.Effect<Buffer, PayloadTooLarge | BadRequest> =>
  encoding === "identity"
    ? Effect.succeed(raw)
    : Effect.async<Buffer, PayloadTooLarge | BadRequest>((resume) => {
      const done = (e: Error | null, out: Buffer) => {
        if (e === null) return resume(Effect.succeed(out))
        if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
          return resume(Effect.fail(tooLarge(maxBytes)))
        }
        // zlib's own message ("incorrect header check") never quotes the data.
        resume(Effect.fail(new BadRequest({ message: `body could not be decompressed (${encoding}): ${e.message}` })))
      }
      if (encoding === "gzip") Zlib.gunzip(raw, { maxOutputLength: maxBytes }, done)
      else Zlib.inflate(raw, { maxOutputLength: maxBytes }, done)
    })
