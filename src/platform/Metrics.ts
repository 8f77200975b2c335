/**
 * The app's Prometheus metrics, on a prom-client registry of their own per instance (so tests and
 * two servers in one process never share counts), with prom-client's default process, GC and
 * event-loop metrics beside them. prom-client keys a series by its label values (whatever the
 * order the labels are given in) and escapes label values and HELP text.
 *
 * Each family is declared where it is counted, with its label names; declaring a name twice
 * gives the same family. Counters and histograms are bumped on the hot path; gauges that need
 * I/O (outbox backlog) are refreshed when /metrics is scraped (`onScrape`).
 */
import { Effect } from "effect"
import * as Prom from "prom-client"

type Labels<L extends string> = { readonly [K in L]?: string }

export class Counter<L extends string = never> {
  constructor(private readonly metric: Prom.Counter<L>) {}
  inc(labels: Labels<L> = {}, by = 1) {
    this.metric.inc(labels, by)
  }
  /** One series, its labels hashed once: for a hot path that counts the same series every time. */
  series(labels: Labels<L>): { inc(by?: number): void } {
    return this.metric.labels(labels as Prom.LabelValues<L>)
  }
}

/** A gauge has no series until it is set (a timestamp of 0 would read as "1970"). */
export class Gauge<L extends string = never> {
  constructor(private readonly metric: Prom.Gauge<L>) {
    this.clear()
  }
  set(value: number, labels: Labels<L> = {}) {
    this.metric.set(labels, value)
  }
  /** Drops every series (a gauge rebuilt from a query at each scrape). */
  clear() {
    this.metric.reset()
    this.metric.remove({})
  }
}

export class Histogram<L extends string = never> {
  constructor(private readonly metric: Prom.Histogram<L>) {}
  observe(value: number, labels: Labels<L> = {}) {
    this.metric.observe(labels, value)
  }
  /** One series, its labels hashed once (see `Counter.series`). */
  series(labels: Labels<L>): { observe(value: number): void } {
    return this.metric.labels(labels as Prom.LabelValues<L>)
  }
}

export interface MetricsShape {
  readonly counter: <L extends string = never>(name: string, help: string, labelNames?: ReadonlyArray<L>) => Counter<L>
  readonly gauge: <L extends string = never>(name: string, help: string, labelNames?: ReadonlyArray<L>) => Gauge<L>
  readonly histogram: <L extends string = never>(
    name: string,
    help: string,
    buckets: ReadonlyArray<number>,
    labelNames?: ReadonlyArray<L>
  ) => Histogram<L>
  /** Registers a refresh run before each scrape (for values that need a query). */
  readonly onScrape: (refresh: Effect.Effect<void>) => void
  readonly render: Effect.Effect<string>
  /** The exposition format's content type, for the /metrics reply. */
  readonly contentType: string
}

/**
 * How often prom-client's event-loop delay histogram samples the loop (`nodejs_eventloop_lag_p50…
 * max_seconds`), in ms. Its default, 10 ms, is a timer that wakes the event loop 100 times a second
 * for ever: measured on an idle server, 99 of its 110 wake-ups a second and 0.73 % of a core, against
 * 11 wake-ups and 0.13 % at 100 ms (docs/benchmarks.md). A client's container is idle most of the
 * day, and an operator runs hundreds of them. At 100 ms a stall shows as the excess over 100 ms and
 * the histogram samples the loop ten times a second: long stalls are seen, short ones rarely.
 */
export const EVENT_LOOP_SAMPLE_MS = 100

export const makeMetrics = (): MetricsShape => {
  const registry = new Prom.Registry()
  Prom.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
  const families = new Map<string, Counter<any> | Gauge<any> | Histogram<any>>()
  const refreshers: Array<Effect.Effect<void>> = []
  const family = <F extends Counter<any> | Gauge<any> | Histogram<any>>(name: string, create: () => F): F => {
    const existing = families.get(name)
    if (existing !== undefined) return existing as F
    const created = create()
    families.set(name, created)
    return created
  }
  const config = (name: string, help: string, labelNames: ReadonlyArray<string> = []) => ({
    name,
    help,
    labelNames,
    registers: [registry]
  })
  return {
    counter: (name, help, labelNames) =>
      family(name, () => new Counter(new Prom.Counter(config(name, help, labelNames)))),
    gauge: (name, help, labelNames) => family(name, () => new Gauge(new Prom.Gauge(config(name, help, labelNames)))),
    histogram: (name, help, buckets, labelNames) =>
      family(name, () => new Histogram(new Prom.Histogram({ ...config(name, help, labelNames), buckets: [...buckets] }))),
    onScrape: (refresh) => void refreshers.push(refresh),
    render: Effect.zipRight(
      Effect.all(refreshers, { discard: true, concurrency: "unbounded" }),
      Effect.promise(() => registry.metrics())
    ),
    contentType: registry.contentType
  }
}

export class Metrics extends Effect.Service<Metrics>()("mai-usage/Metrics", { sync: makeMetrics }) {}
