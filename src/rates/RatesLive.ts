/** NBP rates through the NBP service when `NBP_SERVICE_URL` is set, else straight from NBP. */
import { Effect, Layer } from "effect"
import { AppConfig } from "../platform/Config.js"
import { Metrics } from "../platform/Metrics.js"
import { NbpRate } from "./NbpRate.js"

export const NbpRateLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const c = yield* AppConfig
    const failures = (yield* Metrics).counter(
      "mai_nbp_fetch_failures_total",
      "Calls of this app to NBP (or to the NBP service) that failed, by reason: unreachable, not-found, bad-request",
      ["reason"]
    )
    return NbpRate.Default({
      serviceUrl: c.nbpServiceUrl,
      apiUrl: c.nbpApiUrl,
      onFetchFailure: (reason) => failures.inc({ reason })
    })
  })
)
