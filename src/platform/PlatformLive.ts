/**
 * What every process of the app stands on: the validated configuration, metrics, readiness, and
 * the runtime's settings.
 */
import { Layer } from "effect"
import type { AppConfig } from "./Config.js"
import * as Config from "./Config.js"
import { Metrics } from "./Metrics.js"
import { NodeScheduler } from "./NodeScheduler.js"
import { Readiness } from "./Readiness.js"

// No tracing exporter is configured, and span bookkeeping (every SQL statement opens one) is a large
// part of a ledger write: spans are off. Fibers yield to I/O with setImmediate rather than Effect's
// default setTimeout(0). What each did to the webhook: docs/benchmarks.md.
const NoTracing = Layer.mergeAll(Layer.setTracerEnabled(false), Layer.setScheduler(new NodeScheduler()))

/** The platform over a given configuration layer. */
export const platformWith = <E>(config: Layer.Layer<AppConfig, E>) =>
  Layer.mergeAll(Metrics.Default, Readiness.Default).pipe(Layer.provideMerge(config), Layer.provideMerge(NoTracing))

/** Configured from the environment. */
export const PlatformLive = platformWith(Config.layer)

/** Configured from a map of variables instead of the environment (tests, benchmarks). */
export const platformFromMap = (vars: Record<string, string>) => platformWith(Config.layerFromMap(vars))

export type Platform = AppConfig | Metrics | Readiness
