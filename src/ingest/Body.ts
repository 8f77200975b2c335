/**
 * Reading a webhook body in two steps. First the raw bytes as received, capped at `maxBytes`
 * (what an unauthenticated sender can make us hold), so an HMAC signature is checked over exactly
 * those bytes before anything is decompressed. Then, for an authentic request only, gzip/deflate is
 * inflated with the same cap on the output (a gzip bomb stops at the cap, off the event loop).
 *
 * Plain callbacks, no Effect: this is the webhook's hot path (one request = one read), measured in
 * docs/benchmarks.md. Each callback is called exactly once.
 */
import type * as Http from "node:http"
import * as Zlib from "node:zlib"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "../api/WebhookErrors.js"
import { noteBodyBytes } from "../platform/Heap.js"

export type ContentEncoding = "identity" | "gzip" | "deflate"

/** A body read, or why not. */
export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly error: PayloadTooLarge | BadRequest }

const tooLarge = (maxBytes: number) =>
  new PayloadTooLarge({ message: `body exceeds MAX_BODY_BYTES (${maxBytes} bytes)` })

/** The request's Content-Encoding, or 415 for one we do not speak. */
export const contentEncoding = (req: Http.IncomingMessage): ContentEncoding | UnsupportedMediaType => {
  const given = req.headers["content-encoding"]
  if (given === undefined) return "identity"
  const encoding = given.toLowerCase().trim()
  if (encoding === "identity" || encoding === "") return "identity"
  if (encoding === "gzip" || encoding === "x-gzip") return "gzip"
  if (encoding === "deflate") return "deflate"
  return new UnsupportedMediaType({ message: `unsupported Content-Encoding: ${encoding.slice(0, 40)}` })
}

/** The raw bytes as received, refused (413) as soon as they pass `maxBytes`. */
export const readRaw = (req: Http.IncomingMessage, maxBytes: number, done: (result: BodyResult) => void): void => {
  const declared = Number(req.headers["content-length"])
  if (declared > maxBytes) return done({ ok: false, error: tooLarge(maxBytes) })
  const chunks: Array<Buffer> = []
  let size = 0
  let finished = false
  const finish = (result: BodyResult) => {
    if (finished) return
    finished = true
    req.removeListener("data", onData)
    done(result)
  }
  const onData = (chunk: Buffer) => {
    size += chunk.length
    if (size > maxBytes) {
      chunks.length = 0
      return finish({ ok: false, error: tooLarge(maxBytes) })
    }
    chunks.push(chunk)
  }
  req.on("data", onData)
  req.on("end", () => {
    // The chunks, and their copy in one piece: Buffers the heap is told of (Node 24's V8 would
    // leave them dead until a full collection: platform/Heap.ts).
    noteBodyBytes(chunks.length === 1 ? size : 2 * size)
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
    // These listeners stay on `req` until the reply: the chunks must not wait with them for the
    // ledger's commit (with 158 KB deliveries, a second copy of every body in flight).
    chunks.length = 0
    finish({ ok: true, body })
  })
  req.on("error", () => finish({ ok: false, error: new BadRequest({ message: "request body could not be read" }) }))
  req.on("aborted", () => finish({ ok: false, error: new BadRequest({ message: "request aborted" }) }))
}

/** The decompressed body, refused (413) when it would pass `maxBytes`. */
export const inflate = (
  raw: Buffer,
  encoding: ContentEncoding,
  maxBytes: number,
  done: (result: BodyResult) => void
): void => {
  if (encoding === "identity") return done({ ok: true, body: raw })
  const inflated = (e: Error | null, out: Buffer) => {
    if (e === null) {
      noteBodyBytes(out.length)
      return done({ ok: true, body: out })
    }
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
      return done({ ok: false, error: tooLarge(maxBytes) })
    }
    // zlib's own message ("incorrect header check") never quotes the data.
    done({ ok: false, error: new BadRequest({ message: `body could not be decompressed (${encoding}): ${e.message}` }) })
  }
  if (encoding === "gzip") Zlib.gunzip(raw, { maxOutputLength: maxBytes }, inflated)
  else Zlib.inflate(raw, { maxOutputLength: maxBytes }, inflated)
}
