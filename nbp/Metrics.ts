/**
 * The service's Prometheus metrics, through the app's registry wrapper (`src/http/Metrics.ts`):
 * a prom-client registry per instance, so that several services in one test process do not
 * share counts, with prom-client's default process, GC and event-loop metrics.
 */
import type { Effect } from "effect"
import { makeMetrics } from "../src/platform/Metrics.js"

export class ServiceMetrics {
  private readonly metrics = makeMetrics()
  private readonly requests = this.metrics.counter("nbp_http_requests_total", "HTTP requests answered, by route and status.", [
    "route",
    "status"
  ])
  private readonly upstream = this.metrics.counter("nbp_upstream_requests_total", "Requests to NBP's API, by call and outcome.", [
    "call",
    "outcome"
  ])
  private readonly failures = this.metrics.counter(
    "nbp_fetch_failures_total",
    "NBP API calls that failed (unreachable, not found, bad request)."
  )
  private readonly latestAvailable = this.metrics.gauge("nbp_latest_available", "1 when a latest table is held.")
  private readonly latestStale = this.metrics.gauge(
    "nbp_latest_stale",
    "1 when the latest table is served stale after a failed refresh."
  )
  private readonly latestAge = this.metrics.gauge("nbp_latest_age_seconds", "Seconds since the latest table was fetched.")
  private readonly cacheEntries = this.metrics.gauge("nbp_cache_entries", "Dated answers held in the cache.")

  readonly contentType = this.metrics.contentType

  countRequest(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) })
  }

  countUpstream(call: string, outcome: string): void {
    this.upstream.inc({ call, outcome })
    if (outcome !== "ok") this.failures.inc()
  }

  render(gauges: {
    readonly latestStale: boolean | undefined
    readonly latestAgeSeconds: number | undefined
    readonly cachedEntries: number
  }): Effect.Effect<string> {
    this.latestAvailable.set(gauges.latestStale === undefined ? 0 : 1)
    this.latestStale.set(gauges.latestStale ? 1 : 0)
    this.latestAge.clear()
    if (gauges.latestAgeSeconds !== undefined) this.latestAge.set(gauges.latestAgeSeconds)
    this.cacheEntries.set(gauges.cachedEntries)
    return this.metrics.render
  }
}
