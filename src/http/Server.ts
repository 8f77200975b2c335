/**
 * One `node:http` server. The webhook — the hot path — runs straight from the Node handler, for
 * throughput, and `/health` is answered there too, as fast as a bare server (docs/benchmarks.md);
 * every other path goes to the Effect `HttpApp` built from `MaiApi` and the plain routes.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Cause, Context, Effect, Layer, Option, Runtime } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { AppConfig } from "../platform/Config.js"
import * as Reply from "../ingest/Reply.js"
import { loadOtlpCodec, otlpCodecLoaded } from "../ingest/OtlpProto.js"
import { WEBHOOK_PATHS, wantsProtobuf, Webhook, type WebhookOutcome } from "../ingest/Webhook.js"
import { API_BODY_LIMIT, bodyLimitFor } from "./BodyLimits.js"
import { lingerIfUnread } from "./Linger.js"
import { Metrics } from "../platform/Metrics.js"
import { HEALTH } from "./OpsRoutes.js"

export interface ListeningShape {
  readonly port: number
  readonly url: string
}

export class Listening extends Context.Tag("mai-usage/Listening")<Listening, ListeningShape>() {}

const pathOf = (url: string | undefined) => {
  const q = url?.indexOf("?") ?? -1
  return q === -1 ? url ?? "/" : url!.slice(0, q)
}

const JSON_HEADERS = { "content-type": "application/json" }
const HEALTH_BODY = JSON.stringify(HEALTH)

/**
 * Answers with the body's length declared. Without it, a `writeHead` then `end(body)` answer goes
 * out chunked (a chunk-size line, the body, the closing chunk) and the sender parses that framing;
 * with it, the head and the body go out as one piece and the sender reads a length. The webhook's
 * replies are small and known whole, so they are never streamed.
 */
const answerWith = (res: Http.ServerResponse, status: number, headers: Record<string, string>, body: string | Uint8Array) => {
  const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength
  res.writeHead(status, { ...headers, "content-length": String(length) }).end(body)
}
const HEALTH_HEADERS = { ...JSON_HEADERS, "content-length": String(Buffer.byteLength(HEALTH_BODY)) }

/**
 * Our own limits, not Node's defaults (which let a connection be held for 300 s): the headers
 * must arrive within 10 s and the whole request (webhook body included) within 30 s; an idle
 * keep-alive connection is closed after 10 s. Node looks for overdue connections every second.
 * None of these limits how long a handler may take to answer (a batch run over many days).
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 10_000,
  connectionsCheckingInterval: 1_000
} as const

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const webhook = yield* Webhook
  const metrics = yield* Metrics
  const app = yield* HttpApiBuilder.httpApp
  // Whatever a route reads is bounded (a route may lower the limit further, as /login does).
  const appHandler = yield* NodeHttpServer.makeHandler(
    HttpServerRequest.withMaxBodySize(app, Option.some(API_BODY_LIMIT))
  )
  const runtime = yield* Effect.runtime<never>()
  const runFork = Runtime.runFork(runtime)

  const requests = metrics.counter("mai_webhook_requests_total", "Webhook requests by HTTP status", ["status"])
  const latency = metrics.histogram(
    "mai_http_request_duration_seconds",
    "HTTP request latency",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ["route"]
  )

  // the series every accepted delivery counts, bound once; the others are rare
  const answeredOk = requests.series({ status: "200" })
  const countRequest = (status: number) =>
    status === 200 ? answeredOk.inc() : requests.inc({ status: String(status) })
  const webhookLatency = latency.series({ route: "webhook" })
  const otherLatency = latency.series({ route: "other" })

  const handleWebhook = (req: Http.IncomingMessage, res: Http.ServerResponse, started: number) => {
    const answer = (outcome: WebhookOutcome) => {
      const protobuf = wantsProtobuf(req)
      let reply: Reply.HttpReply
      if (outcome._tag === "Answered") {
        reply = Reply.success(outcome.reply, protobuf)
      } else if (outcome._tag === "Refused") {
        reply = Reply.rejection(outcome.error, protobuf)
        // The message is ours (one line, never body content), so it can be logged.
        if (reply.status !== 401) {
          runFork(Effect.logWarning("webhook request refused", { status: reply.status, reason: outcome.error.message }))
        }
      } else {
        reply = Reply.failure(500, "internal error", protobuf)
        runFork(Effect.logError("webhook crashed", Cause.pretty(Cause.die(outcome.cause))))
      }
      countRequest(reply.status)
      // An answer given before the body was read (401, 413, 503) must reach the sender, never a
      // connection reset (Linger.ts): the rest of the body is read and dropped, nothing is kept.
      if (reply.status !== 200) lingerIfUnread(req)
      answerWith(res, reply.status, reply.headers, reply.body)
      webhookLatency.observe((performance.now() - started) / 1000)
    }
    try {
      webhook.handle(req, answer)
    } catch (cause) {
      // a defect before any answer: 500 (one that broke the answer itself is only logged)
      if (res.headersSent) runFork(Effect.logError("webhook crashed while answering", Cause.pretty(Cause.die(cause))))
      else answer({ _tag: "Crashed", cause })
    }
  }

  const server = Http.createServer(SERVER_TIMEOUTS, (req, res) => {
    const started = performance.now()
    const path = pathOf(req.url)
    if (WEBHOOK_PATHS.has(path) && (req.method === "POST" || req.method === "PUT")) {
      // The protobuf codec is loaded by the first protobuf request (a JSON sender never needs it).
      if (!otlpCodecLoaded() && wantsProtobuf(req)) {
        return void loadOtlpCodec().then(() => handleWebhook(req, res, started), (e) => {
          runFork(Effect.logError("the OTLP protobuf codec could not be loaded", String(e)))
          answerWith(res, 500, JSON_HEADERS, JSON.stringify({ code: 13, message: "internal error" }))
        })
      }
      return handleWebhook(req, res, started)
    }
    // Liveness is answered here, as the bare server would: through the Effect app, a probe after a
    // quiet moment took ~0.8 ms instead of ~0.1 ms, and twice as long beside a burst of deliveries
    // (docs/benchmarks.md). The app's route answers the same for anyone who mounts the app alone.
    if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, HEALTH_HEADERS).end(HEALTH_BODY)
      return otherLatency.observe((performance.now() - started) / 1000)
    }
    res.once("finish", () => otherLatency.observe((performance.now() - started) / 1000))
    const limit = bodyLimitFor(path)
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      // Refused before a byte of it is read; Node drains the rest (dropped) so the 413 is delivered.
      lingerIfUnread(req)
      return answerWith(res, 413, JSON_HEADERS, JSON.stringify({ error: `request body too large: at most ${limit} bytes on ${path}` }))
    }
    appHandler(req, res)
  })
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeout

  yield* Effect.async<void, Error>((resume) => {
    server.once("error", (e) => resume(Effect.fail(e)))
    server.listen(config.port, config.host, () => resume(Effect.void))
  })
  yield* Effect.addFinalizer(() =>
    Effect.zipRight(
      Effect.logInfo("shutting down: no new connections, finishing requests in flight"),
      Effect.async<void>((resume) => {
      // Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets.
      server.close(() => resume(Effect.void))
      server.closeIdleConnections()
      setTimeout(() => server.closeAllConnections(), 5_000).unref()
    })
    )
  )
  const port = (server.address() as AddressInfo).port
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
  yield* Effect.logInfo("listening", { port, host: config.host })
  return Listening.of({ port, url: `http://${host}:${port}` })
})

/** Needs the routes (`HttpApiBuilder.Router`) and the API already built; see `App.ts`. */
export const layer = Layer.scoped(Listening, make)
