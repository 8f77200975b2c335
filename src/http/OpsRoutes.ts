/** Operations endpoints: liveness, readiness, Prometheus metrics. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { AdminAccess } from "./AdminAuth.js"
import { Metrics } from "../platform/Metrics.js"
import { quiet, Readiness } from "../platform/Readiness.js"

/** `/health`'s answer: the process is up and serving (the server answers it without the app). */
export const HEALTH = { status: "ok" } as const

export const OpsRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const readiness = yield* Readiness
    const access = yield* AdminAccess
    yield* router.get("/health", HttpServerResponse.unsafeJson(HEALTH))
    yield* router.get(
      "/ready",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const r = yield* readiness.run
        // Error texts can quote user ids, org ids or line protocol: only an admin sees them.
        const admin = yield* Effect.isSuccess(access.check(request))
        return HttpServerResponse.unsafeJson(admin ? r : quiet(r), {
          status: r.ok ? 200 : 503,
          headers: { "cache-control": "no-store" }
        })
      })
    )
    yield* router.get(
      "/metrics",
      Effect.map(metrics.render, (text) =>
        HttpServerResponse.text(text, { contentType: metrics.contentType }))
    )
  })
)
