/**
 * The NBP rate service: a node:http listener whose every request is answered
 * by an Effect (`Routes.ts`) run on the runtime the server was started in.
 * Chosen over an Effect HttpRouter server for throughput (bench/nbp.ts,
 * docs/nbp.md); the routes, caches and schedules stay Effect code.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Clock, Duration, Effect, Exit, Layer, type Redacted, Runtime, Schedule, Scheduler, type Scope } from "effect"
import { ServiceMetrics } from "./Metrics.js"
import { makeRateService } from "./RateService.js"
import { maskUrl } from "../src/domain/Redact.js"
import { makeRoutes, type Reply } from "./Routes.js"

export interface NbpServerOptions {
  /** 0 picks a free port */
  readonly port: number
  readonly host?: string
  /** NBP's USD resource, e.g. https://api.nbp.pl/api/exchangerates/rates/a/usd/ */
  readonly apiUrl: string
  readonly fetchInterval: Duration.DurationInput
  readonly cacheTtl: Duration.DurationInput
  readonly adminToken: Redacted.Redacted | undefined
  /** per NBP request (default 10 seconds) */
  readonly timeout?: Duration.DurationInput
}

export interface NbpServer {
  readonly port: number
  /** e.g. http://127.0.0.1:8001 (no trailing slash) */
  readonly url: string
}

const internalError: Reply = {
  status: 500,
  body: JSON.stringify({ error: "internal error" }),
  contentType: "application/json; charset=utf-8"
}

/** Starts the service; it stops (in-flight requests finished) when the scope closes. */
export const makeNbpServer = (options: NbpServerOptions): Effect.Effect<NbpServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const metrics = new ServiceMetrics()
    const rates = yield* makeRateService({
      apiUrl: options.apiUrl,
      cacheTtl: options.cacheTtl,
      metrics,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout })
    }).pipe(Effect.provide(FetchHttpClient.layer))
    const handle = makeRoutes({
      rates,
      metrics,
      adminToken: options.adminToken,
      startedAt: yield* Clock.currentTimeMillis
    })

    // the periodic fetch of the latest table; a failure is logged by the cache and never stops it
    yield* rates.refreshLatest.pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("no latest NBP table yet").pipe(Effect.annotateLogs({ error: error.message }))
      ),
      Effect.repeat(Schedule.spaced(options.fetchInterval)),
      Effect.forkScoped
    )

    const runtime = yield* Effect.runtime<never>()
    const fork = Runtime.runFork(runtime)
    /**
     * A ready `Exit` (a cached answer) is written at once. Any other effect
     * runs synchronously as far as it goes, then on the default scheduler if
     * it has to wait for NBP: no scheduler round-trip for what is at hand.
     */
    const run = (effect: Effect.Effect<Reply>, onExit: (exit: Exit.Exit<Reply>) => void) => {
      if (Exit.isExit(effect)) return onExit(effect as Exit.Exit<Reply>)
      const scheduler = new Scheduler.SyncScheduler()
      const fiber = fork(effect, { scheduler })
      scheduler.flush()
      const exit = fiber.unsafePoll()
      if (exit !== null) onExit(exit)
      else fiber.addObserver(onExit)
    }

    const write = (res: Http.ServerResponse, head: boolean, reply: Reply) => {
      res.writeHead(reply.status, {
        "content-type": reply.contentType,
        "content-length": Buffer.byteLength(reply.body),
        "cache-control": "no-store",
        ...reply.headers
      })
      res.end(head ? undefined : reply.body)
    }

    const noQuery = new URLSearchParams()
    // Our own limits instead of Node's 300 s: headers within 10 s, a request within 30 s.
    const server = Http.createServer({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 10_000,
      connectionsCheckingInterval: 1_000
    }, (req, res) => {
      const url = req.url ?? "/"
      const q = url.indexOf("?")
      const request = {
        method: req.method ?? "GET",
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? noQuery : new URLSearchParams(url.slice(q + 1)),
        authorization: req.headers.authorization
      }
      const { reply, route } = handle(request)
      run(reply, (exit) => {
        if (Exit.isSuccess(exit)) {
          metrics.countRequest(route, exit.value.status)
          write(res, request.method === "HEAD", exit.value)
        } else {
          metrics.countRequest(route, 500)
          fork(Effect.logError("request failed", exit.cause))
          write(res, false, internalError)
        }
      })
    })
    server.keepAliveTimeout = 10_000

    yield* Effect.async<void>((resume) => {
      server.once("error", (cause) => resume(Effect.die(cause)))
      server.listen(options.port, options.host ?? "0.0.0.0", () => resume(Effect.void))
    })

    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeIdleConnections()
      }).pipe(Effect.timeout(Duration.seconds(10)), Effect.ignore, Effect.zipRight(Effect.logInfo("NBP service stopped")))
    )

    const { port } = server.address() as AddressInfo
    const host = options.host === undefined || options.host === "0.0.0.0" ? "127.0.0.1" : options.host
    yield* Effect.logInfo("NBP service listening").pipe(Effect.annotateLogs({ port, apiUrl: maskUrl(options.apiUrl) }))
    return { port, url: `http://${host}:${port}` }
  })

/** The service as a layer, for `main.ts`. */
export const layer = (options: NbpServerOptions): Layer.Layer<never> =>
  Layer.scopedDiscard(makeNbpServer(options))
