/**
 * Batch aggregation, one client-day of events:
 *  - InfluxDB mode: N events (default 1,000,000) written to a fresh influxd 1.x as the outbox writes
 *    them (same `toLineProtocol`), then, in the same run and alternating, (a) the bare InfluxQL
 *    aggregate query over HTTP on its own (fetch + read the body) and (b) `InfluxUsageStore.aggregate`
 *    through the app's layers for the same window. Target: (b) ≤ 1.3 × (a).
 *  - Embedded mode: N rows in a fresh ledger (one better-sqlite3 transaction), aggregated through the
 *    ledger `UsageStore`, beside the bare SQL query. Target: < 3 s.
 * Prints medians and fastest runs (the machine may be busy), the ratio and RSS. Bounded: gives up after BENCH_TIMEOUT_S (default 600) seconds.
 *
 *   npm run bench:batch                 (BENCH_EVENTS=200000 REPS=15 to change)
 */
import Database from "better-sqlite3"
import { DateTime, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { platformFromMap } from "../src/platform/PlatformLive.js"
import { LedgerLive } from "../src/store/StoreLive.js"
import type { UsageEvent } from "../src/domain/UsageEvent.js"
import * as InfluxUsageStore from "../src/store/InfluxUsageStore.js"
import * as Ledger from "../src/store/Ledger.js"
import { toLineProtocol } from "../src/store/UsagePoint.js"
import { UsageStore, type UsageWindow } from "../src/store/UsageStore.js"
import { baseVars, tempDir } from "../test/support/app.js"
import { startNbpStandIn } from "../test/support/nbpStandIn.js"
import { NbpRateLive } from "../src/rates/RatesLive.js"
import { SummaryDbLive } from "../src/store/StoreLive.js"
import { DailyBatchLive } from "../src/billing/BatchLive.js"
import { DailyBatch } from "../src/billing/DailyBatch.js"
import { dayWindow } from "../src/domain/WarsawDay.js"
import { hasInfluxd, startInfluxd } from "../test/support/influx.js"

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const REPS = Number(process.env.REPS ?? 15)
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 600)
const CLIENT = "bench-client"
const DB = "bench"
// A Warsaw calendar day inside the NBP fixture's years, so the full batch can price it.
const DAY = "2025-09-29"
const dayWin = dayWindow(DAY, "Europe/Warsaw")
const DAY_MS = DateTime.toEpochMillis(dayWin.start)
const window: UsageWindow = { clientOrgId: CLIENT, start: dayWin.start, end: dayWin.end }

const watchdog = setTimeout(() => {
  console.error(`bench:batch: gave up after ${TIMEOUT_S} s`)
  process.exit(2)
}, TIMEOUT_S * 1000)

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`
const rss = () => mb(process.memoryUsage().rss)
const procRss = (pid: number | undefined) => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    return kb === undefined ? "?" : mb(Number(kb) * 1024)
  } catch {
    return "?"
  }
}
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const min = (xs: Array<number>) => Math.min(...xs)
const ms = (x: number) => `${x.toFixed(1)} ms`

/** 200 users × 12 models × 2 keys, spread over the day; deterministic. */
const event = (i: number): UsageEvent => ({
  generationId: `gen-bench-${i}`,
  eventTimeNs: BigInt(DAY_MS) * 1_000_000n + BigInt(Math.floor((i / EVENTS) * 86_400_000)) * 1_000_000n + 123_456n,
  clientOrgId: CLIENT,
  user: `user-${i % 200}@example.pl`,
  model: `vendor-${i % 12}/model-${i % 12}`,
  apiKeyName: i % 2 === 0 ? "prod" : "dev",
  provider: "Bench Provider",
  inputTokens: 1000 + (i % 997),
  outputTokens: 100 + (i % 331),
  totalTokens: 1100 + (i % 997) + (i % 331),
  cachedTokens: i % 5 === 0 ? 512 : 0,
  reasoningTokens: i % 7,
  costNusd: 1_000_000n + BigInt(i % 100_003)
})

const time = async <A>(f: () => Promise<A>) => {
  const t = performance.now()
  const a = await f()
  return { ms: performance.now() - t, value: a }
}

const influxBench = async () => {
  if (!hasInfluxd) {
    console.warn("!!! influxd not installed (apt-get install -y influxdb): InfluxDB part skipped")
    return
  }
  const influx = await startInfluxd()
  const dataDir = tempDir("mai-usage-bench-")
  try {
    await influx.createDatabase(DB)
    console.log(`influxd ${influx.url}; writing ${EVENTS.toLocaleString("en")} points…`)
    const BATCH = 25_000
    const load = await time(async () => {
      let inFlight: Array<Promise<void>> = []
      for (let start = 0; start < EVENTS; start += BATCH) {
        const lines: Array<string> = []
        for (let i = start; i < Math.min(EVENTS, start + BATCH); i++) lines.push(toLineProtocol(event(i), "usage_tracking"))
        inFlight.push(
          fetch(`${influx.url}/write?db=${DB}&precision=ns`, { method: "POST", body: lines.join("\n") }).then(async (r) => {
            if (r.status !== 204) throw new Error(`write ${r.status}: ${await r.text()}`)
          })
        )
        if (inFlight.length >= 2) {
          await Promise.all(inFlight)
          inFlight = []
        }
      }
      await Promise.all(inFlight)
    })
    console.log(`  loaded in ${(load.ms / 1000).toFixed(1)} s (${Math.round(EVENTS / (load.ms / 1000)).toLocaleString("en")} points/s); influxd RSS ${procRss(influx.pid())}`)

    const runtime = ManagedRuntime.make(
      InfluxUsageStore.layer.pipe(
        Layer.provideMerge(LedgerLive),
        Layer.provideMerge(platformFromMap({ ...baseVars(dataDir), INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, CLIENT_ORG_ID: CLIENT })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
      )
    )
    const store = await runtime.runPromise(UsageStore)
    const q = InfluxUsageStore.aggregateQuery("usage_tracking", window)
    const bare = () =>
      fetch(`${influx.url}/query?${new URLSearchParams({ db: DB, epoch: "ns", q })}`).then(async (r) => {
        const text = await r.text()
        if (r.status !== 200) throw new Error(`query ${r.status}: ${text}`)
        return text
      })
    const viaStore = () => runtime.runPromise(store.aggregate(window))

    // Warm-up, and check both see every event.
    const rows = await viaStore()
    await bare()
    const counted = rows.reduce((n, r) => n + r.requests, 0)
    if (counted !== EVENTS) throw new Error(`store counted ${counted} of ${EVENTS}`)
    const bareTimes: Array<number> = []
    const storeTimes: Array<number> = []
    // Alternating, in ABBA order, so drift in the machine's load falls on both alike.
    for (let r = 0; r < REPS; r++) {
      if (r % 2 === 0) {
        bareTimes.push((await time(bare)).ms)
        storeTimes.push((await time(viaStore)).ms)
      } else {
        storeTimes.push((await time(viaStore)).ms)
        bareTimes.push((await time(bare)).ms)
      }
    }
    const a = median(bareTimes)
    const b = median(storeTimes)
    console.log(`  (a) bare InfluxQL aggregate query:  median ${ms(a)}  [${bareTimes.map((x) => x.toFixed(0)).join(", ")}]`)
    console.log(`  (b) InfluxUsageStore.aggregate:     median ${ms(b)}  [${storeTimes.map((x) => x.toFixed(0)).join(", ")}]  ${rows.length} (user, model) rows`)
    // On a busy machine single runs swing by seconds; report the ratio of medians, of the fastest
    // runs, and the median difference within a pair, plus the store's own CPU work (parsing).
    const minRatio = min(storeTimes) / min(bareTimes)
    const pairDiff = median(storeTimes.map((t, i) => t - bareTimes[i]))
    const text = await bare()
    const parseTimes: Array<number> = []
    for (let r = 0; r < 20; r++) parseTimes.push((await time(async () => InfluxUsageStore.parseAggregate(text))).ms)
    console.log(`  store-side work: parsing the ${(text.length / 1024).toFixed(0)} KB answer, median ${ms(median(parseTimes))}; median (b)−(a) within a pair ${ms(pairDiff)}`)
    const ratio = b / a
    console.log(
      `  ratio (b)/(a): medians ${ratio.toFixed(3)}, fastest runs ${minRatio.toFixed(3)}, (a+pair diff)/(a) ${((a + pairDiff) / a).toFixed(3)}` +
        `  (target ≤ 1.3)  ${ratio <= 1.3 ? "OK" : "OVER TARGET"}`
    )
    console.log(`  RSS: bench process ${rss()}, influxd ${procRss(influx.pid())}`)
    await runtime.dispose()

    // (c) The whole daily batch for that day: drain, aggregate, NBP rate, PLN per row, summary
    // rows committed in SQLite — what "aggregated and summarised" means for the target.
    const nbp = await startNbpStandIn()
    const batchRuntime = ManagedRuntime.make(
      DailyBatchLive().pipe(
        Layer.provideMerge(Layer.mergeAll(InfluxUsageStore.layer, SummaryDbLive, NbpRateLive)),
        Layer.provideMerge(LedgerLive),
        Layer.provideMerge(platformFromMap({ ...baseVars(dataDir), INFLUXDB_URL: influx.url, INFLUXDB_API: "v1", INFLUXDB_BUCKET: DB, CLIENT_ORG_ID: CLIENT, NBP_API_URL: nbp.url })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
      )
    )
    try {
      const batch = await batchRuntime.runPromise(DailyBatch)
      const batchTimes: Array<number> = []
      const pairedBare: Array<number> = []
      let last: { rows: number; events: number } | undefined
      for (let r = 0; r < Math.max(3, Math.floor(REPS / 3)); r++) {
        pairedBare.push((await time(bare)).ms)
        const t = await time(() => batchRuntime.runPromise(batch.run(DAY, "cli")))
        batchTimes.push(t.ms)
        last = t.value
      }
      const c = median(batchTimes)
      const a2 = median(pairedBare)
      console.log(`  (c) DailyBatch.run(${DAY}) end to end: median ${ms(c)}  [${batchTimes.map((x) => x.toFixed(0)).join(", ")}]  events ${last?.events}, rows ${last?.rows}`)
      console.log(`  ratio (c)/(a): ${(c / a2).toFixed(3)} against the bare query timed beside it (median ${ms(a2)})  (target ≤ 1.3)  ${c / a2 <= 1.3 ? "OK" : "OVER TARGET"}`)
    } finally {
      await batchRuntime.dispose()
      await nbp.close()
    }
  } finally {
    await influx.remove()
    Fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

const ledgerBench = async () => {
  const dir = tempDir("mai-usage-bench-ledger-")
  const file = Path.join(dir, "usage_ledger.db")
  try {
    const runtime = ManagedRuntime.make(Ledger.usageStoreLayer.pipe(Layer.provideMerge(Ledger.layer(file))))
    const store = await runtime.runPromise(UsageStore) // creates the file and applies the migrations

    console.log(`ledger ${file}; inserting ${EVENTS.toLocaleString("en")} rows…`)
    const db = new Database(file)
    const insert = db.prepare(`INSERT INTO ledger_events (generation_id, event_time_ns, client_org_id, user, model,
      api_key_name, provider, input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nusd,
      received_at, flushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`)
    const load = await time(async () =>
      db.transaction(() => {
        for (let i = 0; i < EVENTS; i++) {
          const e = event(i)
          insert.run(e.generationId, e.eventTimeNs, e.clientOrgId, e.user, e.model, e.apiKeyName, e.provider, e.inputTokens,
            e.outputTokens, e.totalTokens, e.cachedTokens, e.reasoningTokens, e.costNusd, DAY_MS)
        }
      })()
    )
    db.pragma("wal_checkpoint(TRUNCATE)")
    console.log(`  inserted in ${(load.ms / 1000).toFixed(1)} s`)

    db.defaultSafeIntegers(true)
    const bareSql = db.prepare(`SELECT user, model, count(*) AS requests, sum(input_tokens), sum(output_tokens),
      sum(total_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost_nusd) FROM ledger_events
      WHERE client_org_id = ? AND event_time_ns >= ? AND event_time_ns < ? GROUP BY user, model ORDER BY user, model`)
    const startNs = BigInt(DAY_MS) * 1_000_000n
    const bare = async () => bareSql.all(CLIENT, startNs, startNs + 86_400_000_000_000n)
    const viaStore = () => runtime.runPromise(store.aggregate(window))

    const rows = await viaStore()
    const counted = rows.reduce((n, r) => n + r.requests, 0)
    if (counted !== EVENTS) throw new Error(`ledger store counted ${counted} of ${EVENTS}`)
    const bareTimes: Array<number> = []
    const storeTimes: Array<number> = []
    for (let r = 0; r < REPS; r++) {
      bareTimes.push((await time(bare)).ms)
      storeTimes.push((await time(viaStore)).ms)
    }
    const b = median(storeTimes)
    console.log(`  bare SQL aggregate:              median ${ms(median(bareTimes))}  [${bareTimes.map((x) => x.toFixed(0)).join(", ")}]`)
    console.log(`  ledger UsageStore.aggregate:     median ${ms(b)}  [${storeTimes.map((x) => x.toFixed(0)).join(", ")}]  ${rows.length} rows`)
    console.log(`  target < 3000 ms: ${b < 3000 ? "OK" : "OVER TARGET"}; RSS ${rss()}`)
    db.close()
    await runtime.dispose()
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  console.log(`bench:batch — ${EVENTS.toLocaleString("en")} events in one client-day, ${REPS} timed runs each; RSS at start ${rss()}`)
  await influxBench()
  await ledgerBench()
}

main().then(
  () => {
    clearTimeout(watchdog)
    process.exit(0)
  },
  (e) => {
    console.error("bench:batch failed:", e)
    process.exit(1)
  }
)
