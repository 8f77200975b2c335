/**
 * The service's Prometheus counters. Plain numbers per instance (not the
 * global metric registry) so that several services in one test process do
 * not share counts, and so that counting costs nothing on the hot path.
 */
export class ServiceMetrics {
  private readonly requests = new Map<string, number>()
  private readonly upstream = new Map<string, number>()

  countRequest(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
  }

  countUpstream(call: string, outcome: string): void {
    const key = `call="${call}",outcome="${outcome}"`
    this.upstream.set(key, (this.upstream.get(key) ?? 0) + 1)
  }

  render(gauges: {
    readonly latestStale: boolean | undefined
    readonly latestAgeSeconds: number | undefined
    readonly cachedEntries: number
  }): string {
    const lines: Array<string> = []
    const counter = (name: string, help: string, values: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
      for (const [labels, value] of values) lines.push(`${name}{${labels}} ${value}`)
    }
    const gauge = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`)
    }
    counter("nbp_http_requests_total", "HTTP requests answered, by route and status.", this.requests)
    counter("nbp_upstream_requests_total", "Requests to NBP's API, by call and outcome.", this.upstream)
    const failures = [...this.upstream].filter(([k]) => !k.endsWith(`outcome="ok"`)).reduce((n, [, v]) => n + v, 0)
    lines.push(
      "# HELP nbp_fetch_failures_total NBP API calls that failed (unreachable, not found, bad request).",
      "# TYPE nbp_fetch_failures_total counter",
      `nbp_fetch_failures_total ${failures}`
    )
    gauge("nbp_latest_available", "1 when a latest table is held.", gauges.latestStale === undefined ? 0 : 1)
    gauge("nbp_latest_stale", "1 when the latest table is served stale after a failed refresh.", gauges.latestStale ? 1 : 0)
    if (gauges.latestAgeSeconds !== undefined) {
      gauge("nbp_latest_age_seconds", "Seconds since the latest table was fetched.", gauges.latestAgeSeconds)
    }
    gauge("nbp_cache_entries", "Dated answers held in the cache.", gauges.cachedEntries)
    return `${lines.join("\n")}\n`
  }
}
