/**
 * The stores, chosen once from the configuration: the ledger (with its /ready check), the usage
 * store (the ledger in embedded mode, InfluxDB otherwise) with the outbox flusher in InfluxDB mode,
 * and the summary DB's file (its owners apply their migrations).
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../platform/Config.js"
import { releaseIdleMemory } from "../platform/Heap.js"
import { Readiness } from "../platform/Readiness.js"
import * as InfluxUsageStore from "./InfluxUsageStore.js"
import * as Ledger from "./Ledger.js"
import * as Outbox from "./Outbox.js"
import * as SummaryDb from "./SummaryDb.js"

const LedgerReadiness = Layer.effectDiscard(
  Effect.gen(function*() {
    const readiness = yield* Readiness
    const ledger = yield* Ledger.Ledger
    readiness.register(
      "ledger",
      ledger.checkWritable.pipe(Effect.as({ ok: true }), Effect.catchAll((e) => Effect.succeed({ ok: false, error: e.message })))
    )
  })
)

/** The ledger of `USAGE_LEDGER_DB`, with `LEDGER_SYNC`. */
export const LedgerLive = Layer.unwrapEffect(Effect.map(AppConfig, (c) => Ledger.layer(c.ledgerDbPath, c.ledgerSync, { queueLimit: c.ledgerQueueLimit, onIdleEnd: releaseIdleMemory })))

/** Embedded mode reads usage back from the ledger; InfluxDB mode from InfluxDB. */
export const UsageStoreLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => (c.influx === undefined ? Ledger.usageStoreLayer : InfluxUsageStore.layer))
)

/** InfluxDB mode: the background outbox flusher (shares the outbox of `UsageStoreLive`). */
const OutboxFlusherLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => (c.influx === undefined ? Layer.empty : Outbox.flusherLayer))
)

/** The summary DB's file (`USAGE_SUMMARY_DB`). */
export const SummaryDbLive = Layer.unwrapEffect(Effect.map(AppConfig, (c) => SummaryDb.layer(c.summaryDbPath)))

/** Everything of the store `serve` runs. */
export const StoreLive = Layer.mergeAll(UsageStoreLive, OutboxFlusherLive, LedgerReadiness).pipe(
  Layer.provideMerge(Layer.mergeAll(LedgerLive, SummaryDbLive))
)
