/**
 * The OpenRouter Broadcast webhook: authenticate, read the raw body once (a signature is checked
 * over those bytes before anything is decompressed), decode the OTLP export (JSON or protobuf),
 * judge each generation span alone, commit usage and quarantined spans to the ledger, and only
 * then answer 200.
 *
 * Nothing of the body is ever quoted in a reply or a log: parse errors carry a position at most,
 * rejected spans an attribute name and a bound.
 */
import { Effect, Either, Runtime } from "effect"
import type * as Http from "node:http"
import { AppConfig } from "../platform/Config.js"
import { decodeDelivery, type DecodeOptions } from "../domain/Otlp.js"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { IgnoredReason, UsageEvent } from "../domain/UsageEvent.js"
import { Metrics } from "../platform/Metrics.js"
import { Ledger } from "../store/Ledger.js"
import { LedgerUnavailable } from "../store/LedgerWriter.js"
import type { Stored } from "../store/LedgerCommit.js"
import { makeAuthenticator } from "./Auth.js"
import { type BodyResult, contentEncoding, inflate, readRaw } from "./Body.js"
import { unavailable } from "../api/ApiErrors.js"
import { BadRequest, Unauthorized, Unavailable, type WebhookRejection } from "../api/WebhookErrors.js"
import { decodeRequest } from "./OtlpProto.js"
import type { WebhookReply } from "./Reply.js"

export type { WebhookReply } from "./Reply.js"

/** `X-Webhook-Signature`'s one shape: anything else cannot match, and is refused unread. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-fA-F]{64}$/

/** Signature-checked bodies read at once; more get 503 with Retry-After. */
export const MAX_SIGNATURE_READS = 4

/** At most this many bytes of read bodies wait for the end of the event loop's round to be decoded. */
const DEFERRED_BYTES = 128 * 1024

export const WEBHOOK_PATHS: ReadonlySet<string> = new Set(["/api/v1/webhooks/openrouter", "/v1/traces"])

const header = (req: Http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** OTLP's binary encoding; anything else is read as JSON (a non-JSON body then gets 400). */
export const wantsProtobuf = (req: Http.IncomingMessage): boolean => {
  const type = header(req, "content-type")
  // the usual JSON sender answered without splitting the header (this runs for every delivery)
  if (type === undefined || type === "application/json") return false
  return /^application\/(x-)?protobuf$/i.test(type.split(";")[0].trim())
}

/** The parser's position, never its excerpt of the input (which could be prompt text). */
const jsonError = (e: unknown) => {
  const m = /position (\d+)/.exec(String((e as Error)?.message ?? ""))
  return m === null ? "malformed JSON" : `malformed JSON at byte ${m[1]}`
}
const protobufError = (e: unknown) => {
  const m = /offset (\d+)/.exec(String((e as Error)?.message ?? ""))
  return m === null ? "malformed protobuf" : `malformed protobuf at byte ${m[1]}`
}

/** The body as an OTLP object (protobuf or JSON), or why not in one line (a position, never content). */
const parseBody = (body: Buffer, protobuf: boolean): Either.Either<unknown, string> => {
  try {
    return Either.right(protobuf ? decodeRequest(body) : JSON.parse(body.toString("utf8")))
  } catch (e) {
    return Either.left(protobuf ? protobufError(e) : jsonError(e))
  }
}

/** partialSuccess.errorMessage: how many, why, and where to look; ids cut short. */
const rejectedMessage = (rejected: ReadonlyArray<RejectedSpan>) => {
  const shown = rejected.slice(0, 3).map((r) => `${r.generationId.slice(0, 64) || "(no id)"}: ${r.detail}`)
  const more = rejected.length > 3 ? `; and ${rejected.length - 3} more` : ""
  return `${rejected.length} span(s) rejected as invalid usage and quarantined: ${shown.join("; ")}${more}`
}

/** What became of one webhook request: answered, refused with its reason, or a defect of ours. */
export type WebhookOutcome =
  | { readonly _tag: "Answered"; readonly reply: WebhookReply }
  | { readonly _tag: "Refused"; readonly error: WebhookRejection }
  | { readonly _tag: "Crashed"; readonly cause: unknown }

/**
 * The webhook's one job, `handle`: over the configuration, the ledger and the metrics of the process.
 *
 * The hot path runs no fiber: one request is a chain of plain callbacks (headers, body, decode, the
 * ledger writer's answer), measured in docs/benchmarks.md. Only the rare paths (a conflict, a
 * rejected span) fork a log line through the layer's runtime.
 */
export class Webhook extends Effect.Service<Webhook>()("mai-usage/Webhook", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const ledger = yield* Ledger
    const metrics = yield* Metrics
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const auth = makeAuthenticator(config.webhookSecrets)
    const decodeOptions: DecodeOptions = { clientOrgId: config.clientOrgId, apiKeyNames: config.apiKeyNames }
    const events = metrics.counter("mai_webhook_events_total", "Usage events in webhook deliveries, by outcome and reason", [
      "outcome",
      "reason"
    ])
    const acceptedEvents = events.series({ outcome: "accepted", reason: "" })
    const duplicateEvents = events.series({ outcome: "duplicate", reason: "" })
    const pendingEvents = events.series({ outcome: "cost-pending", reason: "" })
    const maxBytes = config.maxBodyBytes

    // Bodies read only to check a signature (no valid bearer or header secret): a few at a time,
    // so unauthenticated senders can make the server hold at most that many MAX_BODY_BYTES.
    let signatureReads = 0
    /** Bytes of bodies read and waiting for their decoding (`decodeSoon`). */
    let deferredBytes = 0

    const connectionTest = (): WebhookReply => {
      events.inc({ outcome: "ignored", reason: "connection-test" })
      return { accepted: 0, duplicates: 0, ignored: 1, rejected: 0 }
    }

    /** Counts and logs what the ledger made of a delivery; the reply. */
    const stored = (
      usage: ReadonlyArray<UsageEvent>,
      ignored: ReadonlyArray<IgnoredReason>,
      rejected: ReadonlyArray<RejectedSpan>,
      result: Stored
    ): WebhookReply => {
      if (result.accepted > 0) acceptedEvents.inc(result.accepted)
      if (result.duplicates > result.conflicts) duplicateEvents.inc(result.duplicates - result.conflicts)
      if (result.conflicts > 0) {
        events.inc({ outcome: "conflict", reason: "" }, result.conflicts)
        runFork(Effect.logWarning("redelivered generations differ from the stored ones (kept; see `mai-usage conflicts list`)", {
          conflicts: result.conflicts
        }))
      }
      let pending = 0
      for (const e of usage) if (e.costNusd === null) pending++
      if (pending > 0) pendingEvents.inc(pending)
      for (const reason of ignored) events.inc({ outcome: "ignored", reason })
      for (const r of rejected) events.inc({ outcome: "rejected", reason: r.reason })
      if (rejected.length > 0) {
        runFork(Effect.logWarning("webhook spans rejected", {
          rejected: rejected.length,
          reasons: [...new Set(rejected.map((r) => r.reason))]
        }))
      }
      return {
        accepted: result.accepted,
        duplicates: result.duplicates,
        ignored: ignored.length,
        rejected: rejected.length,
        ...(rejected.length > 0 ? { rejectedMessage: rejectedMessage(rejected) } : {})
      }
    }

    /** Handles one request; `reply` is called exactly once. */
    const handle = (req: Http.IncomingMessage, reply: (outcome: WebhookOutcome) => void): void => {
      let answered = false
      const done = (outcome: WebhookOutcome) => {
        if (answered) return
        answered = true
        reply(outcome)
      }
      const refuse = (error: WebhookRejection) => done({ _tag: "Refused", error })
      /** A step of the chain: whatever it throws is a defect of ours (500), never an unanswered request. */
      const step = <A>(f: (a: A) => void) => (a: A) => {
        try {
          f(a)
        } catch (cause) {
          done({ _tag: "Crashed", cause })
        }
      }

      const headerAuthentic = auth.headerMatches(header(req, "authorization"), header(req, "x-webhook-secret"))
      const signature = header(req, "x-webhook-signature")
      // A request whose credentials cannot be right is refused before its body is read.
      if (!headerAuthentic && signature === undefined) {
        return refuse(new Unauthorized({ message: "missing or wrong webhook secret" }))
      }
      if (!headerAuthentic && !SIGNATURE_FORMAT.test(signature!.trim())) {
        return refuse(new Unauthorized({ message: "malformed webhook signature: expected sha256=<64 hex digits>" }))
      }
      const encoding = contentEncoding(req)
      if (typeof encoding !== "string") return refuse(encoding)

      const decodeAndStore = step((read: BodyResult) => {
        if (!read.ok) return refuse(read.error)
        const body = read.body
        // `X-Test-Connection: true` marks a test only when nothing in the body is usage: a header
        // never discards usage (nor does a span's name: `decodeDelivery` judges each span).
        const testHeader = header(req, "x-test-connection")?.trim().toLowerCase() === "true"
        if (body.length === 0) return done({ _tag: "Answered", reply: connectionTest() })
        const decoded = Either.flatMap(parseBody(body, wantsProtobuf(req)), (parsed) =>
          Either.mapLeft(decodeDelivery(parsed, decodeOptions), (why) => `not an OTLP trace export: ${why}`))
        // An unreadable body with the test header is the test itself (it carries no usage we can see).
        if (Either.isLeft(decoded)) {
          return testHeader
            ? done({ _tag: "Answered", reply: connectionTest() })
            : refuse(new BadRequest({ message: decoded.left }))
        }
        const { events: usage, ignored, rejected } = decoded.right
        if (testHeader && usage.length === 0 && rejected.length === 0) return done({ _tag: "Answered", reply: connectionTest() })
        ledger.submit(usage, rejected, step((result: Stored | LedgerUnavailable) => {
          if (result instanceof LedgerUnavailable) return refuse(unavailable(result))
          done({ _tag: "Answered", reply: stored(usage, ignored, rejected, result) })
        }))
      })

      // Decoding (the body's JSON.parse: most of a delivery's CPU) runs after the event loop's
      // current round of I/O, so the light requests that arrived beside a burst of deliveries
      // (`/health`, `/metrics`, a page) are answered first instead of queueing behind every parse.
      // Bodies wait for it only up to DEFERRED_BYTES in all: big ones beyond that are decoded at once
      // (held longer, 158 KB bodies cost more in garbage collection than the wait saves).
      const decodeSoon = (read: BodyResult) => {
        if (!read.ok || deferredBytes + read.body.length > DEFERRED_BYTES) return decodeAndStore(read)
        const bytes = read.body.length
        deferredBytes += bytes
        setImmediate(() => {
          deferredBytes -= bytes
          decodeAndStore(read)
        })
      }

      const verifyAndInflate = step((read: BodyResult) => {
        if (!read.ok) return refuse(read.error)
        // Over the bytes as received, before any decompression: an unauthenticated sender costs at
        // most MAX_BODY_BYTES, never an expansion.
        if (!headerAuthentic && !auth.signatureMatches(signature!, read.body)) {
          return refuse(new Unauthorized({ message: "wrong webhook signature" }))
        }
        inflate(read.body, encoding, maxBytes, decodeSoon)
      })

      if (headerAuthentic) return readRaw(req, maxBytes, verifyAndInflate)
      if (signatureReads >= MAX_SIGNATURE_READS) {
        return refuse(new Unavailable({ message: "too many signed deliveries being checked at once; retry" }))
      }
      signatureReads++
      readRaw(req, maxBytes, (read) => {
        signatureReads--
        verifyAndInflate(read)
      })
    }

    return { handle }
  })
}) {}
