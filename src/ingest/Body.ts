/**
 * Reading a webhook body once, as raw bytes, decompressing gzip/deflate on the fly and
 * refusing as soon as the decompressed size passes the cap (so a gzip bomb costs little).
 */
import { Effect } from "effect"
import type * as Http from "node:http"
import * as Zlib from "node:zlib"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "./Errors.js"

export const readBody = (
  req: Http.IncomingMessage,
  maxBytes: number
): Effect.Effect<Buffer, PayloadTooLarge | UnsupportedMediaType | BadRequest> =>
  Effect.async<Buffer, PayloadTooLarge | UnsupportedMediaType | BadRequest>((resume) => {
    const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim()
    const tooLarge = () => new PayloadTooLarge({ message: `body exceeds MAX_BODY_BYTES (${maxBytes} bytes)` })
    let source: NodeJS.ReadableStream
    if (encoding === "identity" || encoding === "") {
      const declared = Number(req.headers["content-length"])
      if (declared > maxBytes) return resume(Effect.fail(tooLarge()))
      source = req
    } else if (encoding === "gzip" || encoding === "x-gzip" || encoding === "deflate") {
      const inflater = encoding === "deflate" ? Zlib.createInflate() : Zlib.createGunzip()
      req.pipe(inflater)
      source = inflater
    } else {
      return resume(Effect.fail(new UnsupportedMediaType({ message: `unsupported Content-Encoding: ${encoding}` })))
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    const finish = (result: Effect.Effect<Buffer, PayloadTooLarge | BadRequest>) => {
      if (done) return
      done = true
      source.removeAllListeners("data")
      resume(result)
    }
    source.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        if (source !== req) (source as Zlib.Gunzip).destroy()
        return finish(Effect.fail(tooLarge()))
      }
      chunks.push(chunk)
    })
    source.on("end", () => finish(Effect.succeed(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))))
    source.on("error", (e: Error) =>
      finish(Effect.fail(new BadRequest({ message: `body could not be read or decompressed: ${e.message}` }))))
    req.on("aborted", () => finish(Effect.fail(new BadRequest({ message: "request aborted" }))))
  })
