/** Operations endpoints: liveness, readiness, Prometheus metrics. */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Metrics } from "./Metrics.js"
import { Readiness } from "./Readiness.js"

export const OpsRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const readiness = yield* Readiness
    yield* router.get("/health", HttpServerResponse.unsafeJson({ status: "ok" }))
    yield* router.get(
      "/ready",
      Effect.map(readiness.run, (r) => HttpServerResponse.unsafeJson(r, { status: r.ok ? 200 : 503 }))
    )
    yield* router.get(
      "/metrics",
      Effect.map(metrics.render, (text) =>
        HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
    )
  })
).pipe(Layer.provide(Layer.empty))
