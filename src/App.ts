/**
 * The composition root. Each capability is one layer, built in its own folder and chosen there from
 * the configuration; `serve` stacks them by the architecture's layers, each tier a flat merge:
 *
 *   platform (config, metrics, readiness) → store, rates → ingest, billing → reporting,
 *   reconciliation → the HTTP server (webhook, API, dashboard, ops routes)
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Layer } from "effect"
import { BudgetsServerLive } from "./alerts/Budgets.js"
import { BillingLive } from "./billing/BatchLive.js"
import { DashboardLive } from "./dashboard/DashboardRoutes.js"
import { DirectoryLive } from "./directory/Directory.js"
import * as AdminAuth from "./http/AdminAuth.js"
import { ApiLive, ErrorBodiesLive } from "./http/ApiLive.js"
import { OpsRoutes } from "./http/OpsRoutes.js"
import * as Server from "./http/Server.js"
import { Webhook } from "./ingest/Webhook.js"
import { CostFillerLive } from "./openrouter/CostFiller.js"
import { OpenRouterServerLive } from "./openrouter/OpenRouterLive.js"
import { ReconciliationGateLive } from "./openrouter/ReconciliationGateLive.js"
import { type Platform, PlatformLive, platformFromMap } from "./platform/PlatformLive.js"
import { NbpRateLive } from "./rates/RatesLive.js"
import { People } from "./reporting/People.js"
import { Reports } from "./reporting/Reports.js"
import { StoreLive } from "./store/StoreLive.js"

/** The HTTP server: the webhook's fast path, the JSON API, the dashboard, /health, /ready, /metrics. */
const HttpLive = Server.layer.pipe(
  Layer.provide(Layer.mergeAll(OpsRoutes, DashboardLive).pipe(Layer.provideMerge(ApiLive), Layer.provideMerge(ErrorBodiesLive))),
  Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer, NodeHttpServer.layerContext]),
  Layer.provide(AdminAuth.layer),
  Layer.provideMerge(AdminAuth.AccessLive)
)

/** Everything `serve` runs, over a given platform (tests pass one with their own configuration). */
export const serveLayer = <E, R>(platform: Layer.Layer<Platform, E, R>) =>
  HttpLive.pipe(
    Layer.provideMerge(Layer.mergeAll(People.Default.pipe(Layer.provideMerge(Reports.Default)), OpenRouterServerLive, CostFillerLive, BudgetsServerLive)),
    Layer.provideMerge(Layer.mergeAll(Webhook.Default, BillingLive)),
    // Billing's month close asks reconciliation through its own interface (ReconciliationGate).
    Layer.provideMerge(ReconciliationGateLive),
    Layer.provideMerge(Layer.mergeAll(StoreLive, NbpRateLive, DirectoryLive)),
    Layer.provideMerge(platform)
  )

export const ServeLive = serveLayer(PlatformLive)

export { platformFromMap }
export { JsonLogger } from "./platform/Logging.js"
