/**
 * A small Prometheus text registry. Counters are plain numbers bumped on the hot path;
 * gauges that need I/O (outbox backlog) are read when /metrics is scraped.
 */
import { Context, Effect, Layer } from "effect"

type Labels = Record<string, string>

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const labelText = (labels: Labels) => {
  const keys = Object.keys(labels)
  return keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${escape(labels[k])}"`).join(",")}}`
}

interface Family {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge" | "histogram"
  render(): Array<string>
}

export class Counter implements Family {
  readonly type = "counter" as const
  private readonly values = new Map<string, number>()
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1) {
    const key = labelText(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
  get(labels: Labels = {}) {
    return this.values.get(labelText(labels)) ?? 0
  }
  render() {
    return [...this.values].map(([k, v]) => `${this.name}${k} ${v}`)
  }
}

export class Gauge implements Family {
  readonly type = "gauge" as const
  private readonly values = new Map<string, number>()
  constructor(readonly name: string, readonly help: string) {}
  set(value: number, labels: Labels = {}) {
    this.values.set(labelText(labels), value)
  }
  /** Drops every series (a gauge rebuilt from a query at each scrape). */
  clear() {
    this.values.clear()
  }
  render() {
    return [...this.values].map(([k, v]) => `${this.name}${k} ${v}`)
  }
}

export class Histogram implements Family {
  readonly type = "histogram" as const
  private readonly series = new Map<string, { counts: Array<number>; sum: number; count: number; labels: Labels }>()
  constructor(readonly name: string, readonly help: string, readonly buckets: ReadonlyArray<number>) {}
  observe(value: number, labels: Labels = {}) {
    const key = labelText(labels)
    let s = this.series.get(key)
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0, labels }
      this.series.set(key, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++
    s.sum += value
    s.count++
  }
  render() {
    const out: Array<string> = []
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`))
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`)
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return out
  }
}

export interface MetricsShape {
  readonly counter: (name: string, help: string) => Counter
  readonly gauge: (name: string, help: string) => Gauge
  readonly histogram: (name: string, help: string, buckets: ReadonlyArray<number>) => Histogram
  /** Registers a refresh run before each scrape (for values that need a query). */
  readonly onScrape: (refresh: Effect.Effect<void>) => void
  readonly render: Effect.Effect<string>
}

export class Metrics extends Context.Tag("mai-usage/Metrics")<Metrics, MetricsShape>() {}

export const make = (): MetricsShape => {
  const families = new Map<string, Family>()
  const refreshers: Array<Effect.Effect<void>> = []
  const register = <F extends Family>(f: F): F => {
    const existing = families.get(f.name)
    if (existing !== undefined) return existing as F
    families.set(f.name, f)
    return f
  }
  return {
    counter: (name, help) => register(new Counter(name, help)),
    gauge: (name, help) => register(new Gauge(name, help)),
    histogram: (name, help, buckets) => register(new Histogram(name, help, buckets)),
    onScrape: (refresh) => void refreshers.push(refresh),
    render: Effect.gen(function*() {
      yield* Effect.all(refreshers, { discard: true, concurrency: "unbounded" })
      const lines: Array<string> = []
      for (const f of families.values()) {
        lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.render())
      }
      return lines.join("\n") + "\n"
    })
  }
}

export const layer = Layer.sync(Metrics, make)
