/**
 * The OpenRouter Broadcast webhook: authenticate, read the body once, decode the OTLP
 * JSON, keep usage only, commit it to the ledger, and only then answer 200.
 */
import { Context, Effect, Either, Layer } from "effect"
import type * as Http from "node:http"
import { AppConfig } from "../Config.js"
import { decodeDelivery, type DecodeOptions } from "../domain/Otlp.js"
import { Metrics } from "../http/Metrics.js"
import { Ledger } from "../store/Ledger.js"
import { makeAuthenticator } from "./Auth.js"
import { readBody } from "./Body.js"
import { BadRequest, StoreUnavailable, Unauthorized, UnsupportedMediaType, type WebhookRejection } from "./Errors.js"

export const WEBHOOK_PATHS: ReadonlySet<string> = new Set(["/api/v1/webhooks/openrouter", "/v1/traces"])

export interface WebhookReply {
  readonly accepted: number
  readonly duplicates: number
  readonly ignored: number
}

export interface WebhookShape {
  readonly handle: (req: Http.IncomingMessage) => Effect.Effect<WebhookReply, WebhookRejection>
}

export class Webhook extends Context.Tag("mai-usage/Webhook")<Webhook, WebhookShape>() {}

const header = (req: Http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** OTLP's binary encoding; anything else is tried as JSON (a non-JSON body then gets 400). */
const isProtobuf = (contentType: string | undefined) =>
  contentType !== undefined && /protobuf/i.test(contentType.split(";")[0])

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const ledger = yield* Ledger
  const metrics = yield* Metrics
  const auth = makeAuthenticator(config.webhookSecrets)
  const decodeOptions: DecodeOptions = { clientOrgId: config.clientOrgId, apiKeyNames: config.apiKeyNames }
  const events = metrics.counter("mai_webhook_events_total", "Usage events in webhook deliveries, by outcome and reason")

  const handle = (req: Http.IncomingMessage) =>
    Effect.gen(function*() {
      const headerAuthentic = auth.headerMatches(header(req, "authorization"), header(req, "x-webhook-secret"))
      const signature = header(req, "x-webhook-signature")
      if (!headerAuthentic && signature === undefined) {
        return yield* new Unauthorized({ message: "missing or wrong webhook secret" })
      }
      if (isProtobuf(header(req, "content-type"))) {
        return yield* new UnsupportedMediaType({
          message: "OTLP protobuf is not accepted: configure OTLP/HTTP JSON (Content-Type: application/json)"
        })
      }
      const body = yield* readBody(req, config.maxBodyBytes)
      if (!headerAuthentic && !auth.signatureMatches(signature!, body)) {
        return yield* new Unauthorized({ message: "wrong webhook signature" })
      }
      if (header(req, "x-test-connection")?.toLowerCase() === "true" || body.length === 0) {
        events.inc({ outcome: "ignored", reason: "connection-test" })
        return { accepted: 0, duplicates: 0, ignored: 1 }
      }
      let json: unknown
      try {
        json = JSON.parse(body.toString("utf8"))
      } catch (e) {
        return yield* new BadRequest({ message: `malformed JSON: ${(e as Error).message}` })
      }
      const decoded = decodeDelivery(json, decodeOptions)
      if (Either.isLeft(decoded)) return yield* new BadRequest({ message: `not an OTLP trace export: ${decoded.left}` })
      const { events: usage, ignored } = decoded.right
      const stored = yield* ledger.record(usage).pipe(
        Effect.mapError((e) => new StoreUnavailable({ message: e.message }))
      )
      if (stored.accepted > 0) events.inc({ outcome: "accepted", reason: "" }, stored.accepted)
      if (stored.duplicates > 0) events.inc({ outcome: "duplicate", reason: "" }, stored.duplicates)
      for (const reason of ignored) events.inc({ outcome: "ignored", reason })
      return { accepted: stored.accepted, duplicates: stored.duplicates, ignored: ignored.length }
    })

  return Webhook.of({ handle })
})

export const layer = Layer.effect(Webhook, make)
