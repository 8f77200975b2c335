/**
 * The composition root: which implementation of each interface runs, chosen in one place from
 * the configuration.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer } from "effect"
import { AppConfig } from "./platform/Config.js"
import * as Config from "./platform/Config.js"
import { Webhook } from "./ingest/Webhook.js"
import { ApiLive, ErrorBodiesLive } from "./http/ApiLive.js"
import * as AdminAuth from "./http/AdminAuth.js"
import * as Metrics from "./platform/Metrics.js"
import { OpsRoutes } from "./http/OpsRoutes.js"
import { DashboardLive } from "./dashboard/DashboardRoutes.js"
import * as Readiness from "./platform/Readiness.js"
import { NodeScheduler } from "./platform/NodeScheduler.js"
import * as Server from "./http/Server.js"
import * as InfluxUsageStore from "./store/InfluxUsageStore.js"
import * as Ledger from "./store/Ledger.js"
import * as Outbox from "./store/Outbox.js"
import * as NbpRate from "./rates/NbpRate.js"
import * as SummaryDb from "./store/SummaryDb.js"
import { Months } from "./billing/Months.js"
import { BatchServerLive } from "./billing/BatchLive.js"
import { OpenRouterServerLive } from "./openrouter/OpenRouterLive.js"

const LedgerLive = Layer.unwrapEffect(Effect.map(AppConfig, (c) => Ledger.layer(c.ledgerDbPath, c.ledgerSync)))

/** Embedded mode reads usage back from the ledger; InfluxDB mode from InfluxDB. */
export const UsageStoreLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => (c.influx === undefined ? Ledger.usageStoreLayer : InfluxUsageStore.layer))
)

/** InfluxDB mode: the background outbox flusher (shares the outbox of `UsageStoreLive`). */
const OutboxFlusherLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => (c.influx === undefined ? Layer.empty : Outbox.flusherLayer))
)

/** The summary DB: the batch writes it, the reports read it. */
export const SummaryDbLive = Layer.unwrapEffect(Effect.map(AppConfig, (c) => SummaryDb.layer(c.summaryDbPath)))

/** NBP rates through the NBP service when `NBP_SERVICE_URL` is set, else straight from NBP. */
export const NbpRateLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const c = yield* AppConfig
    const failures = (yield* Metrics.Metrics).counter(
      "mai_nbp_fetch_failures_total",
      "Calls of this app to NBP (or to the NBP service) that failed, by reason: unreachable, not-found, bad-request",
      ["reason"]
    )
    return NbpRate.NbpRate.Default({
      serviceUrl: c.nbpServiceUrl,
      apiUrl: c.nbpApiUrl,
      onFetchFailure: (reason) => failures.inc({ reason })
    })
  })
)

const LedgerReadiness = Layer.effectDiscard(
  Effect.gen(function*() {
    const readiness = yield* Readiness.Readiness
    const ledger = yield* Ledger.Ledger
    readiness.register(
      "ledger",
      ledger.checkWritable.pipe(Effect.as({ ok: true }), Effect.catchAll((e) => Effect.succeed({ ok: false, error: e.message })))
    )
  })
)

// No tracing exporter is configured, and span bookkeeping (every SQL statement opens one) is a large
// part of a ledger write: spans are off. Fibers yield to I/O with setImmediate rather than Effect's
// default setTimeout(0). What each did to the webhook: docs/benchmarks.md.
const NoTracing = Layer.mergeAll(Layer.setTracerEnabled(false), Layer.setScheduler(new NodeScheduler()))

/** Configuration, the ledger, metrics and readiness: what every process of the app shares. */
const coreWith = <E>(config: Layer.Layer<AppConfig, E>) =>
  Layer.mergeAll(LedgerLive, Metrics.Metrics.Default, Readiness.Readiness.Default).pipe(
    Layer.provideMerge(config),
    Layer.provideMerge(NoTracing)
  )

export const CoreLive = coreWith(Config.layer)

/** Everything `serve` runs, over a given core (tests pass a core with their own configuration). */
export const serveLayer = <E, R>(core: Layer.Layer<AppConfig | Ledger.Ledger | Metrics.Metrics | Readiness.Readiness, E, R>) =>
  Server.layer.pipe(
    Layer.provide(OpsRoutes),
    Layer.provide(DashboardLive),
    Layer.provide(ApiLive),
    Layer.provide(ErrorBodiesLive),
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer, NodeHttpServer.layerContext]),
    Layer.provide(Webhook.Default),
    Layer.provide(AdminAuth.layer),
    Layer.provide(AdminAuth.AccessLive),
    Layer.provideMerge(LedgerReadiness),
    Layer.provideMerge(OpenRouterServerLive),
    Layer.provideMerge(Months.Default),
    Layer.provideMerge(BatchServerLive),
    Layer.provideMerge(OutboxFlusherLive),
    Layer.provideMerge(UsageStoreLive),
    Layer.provideMerge(Layer.mergeAll(SummaryDbLive, NbpRateLive)),
    Layer.provideMerge(core)
  )

/** The same core over a map of variables instead of the environment (tests, benchmarks). */
export const coreFromMap = (vars: Record<string, string>) => coreWith(Config.layerFromMap(vars))

export { JsonLogger } from "./platform/Logging.js"
