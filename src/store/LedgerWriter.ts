/**
 * The ledger's writers.
 *
 * - **Usage** (the webhook's deliveries) is written by a thread of its own (`LedgerWorker.ts`): it
 *   owns that write connection and runs the group commit and its fsync, so a commit never stops the
 *   main thread's event loop (better-sqlite3 is synchronous). The main thread hands deliveries over
 *   (those of one event-loop turn in one message) and resumes each delivery only when the thread
 *   says its transaction committed: the webhook answers 2xx on that alone. The hand-off is bounded
 *   (`queueLimit` deliveries waiting); past it a delivery fails at once (503, retry). If the thread
 *   dies, the deliveries it had not answered fail (503: not acknowledged, the sender retries; a
 *   retry of one that was in fact committed is a duplicate) and a new thread is started.
 *   A thread with nothing to do for `idleMs` (30 s) closes its connection and ends; the next
 *   delivery starts a new one. A client's container is idle most of the day (nights, weekends),
 *   and an idle thread holds a V8 isolate of its own (8–11 MB, docs/benchmarks.md). When it has
 *   ended, `onIdleEnd` is called (serve gives back what the traffic left: platform/Heap.ts).
 * - **Everything else** (outbox marks, pruning, filled costs, the /ready probe) is rare and goes
 *   through one connection on the main thread, wrapped in Effect with typed errors; reads go through
 *   @effect/sql. A write lock held by the other connection (or another process) is retried
 *   asynchronously, never by blocking.
 */
import Sqlite from "better-sqlite3"
import { Effect, Schedule, Schema } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import type { RejectedSpan } from "../domain/RejectedSpan.js"
import type { UsageEvent } from "../domain/UsageEvent.js"
import { assetPath } from "../platform/Assets.js"
import { ownerOnly } from "../platform/Sqlite.js"
import {
  configureWriter,
  type Delivery,
  type DeliveryResult,
  failureText,
  type FromWriter,
  isBusyMessage,
  type LedgerSync,
  type Stored,
  type ToWriter,
  type WriterData
} from "./LedgerCommit.js"

export type { LedgerSync } from "./LedgerCommit.js"

export class LedgerUnavailable extends Schema.TaggedError<LedgerUnavailable>()("LedgerUnavailable", {
  message: Schema.String
}) {}

export const unavailable = (what: string) => (cause: unknown) => new LedgerUnavailable({ message: failureText(what, cause) })

export interface WriterOptions {
  /** Deliveries handed to the writer thread and not yet answered; past it, 503 at once. */
  readonly queueLimit?: number
  /** How long the writer thread may have nothing to do before it ends (the next delivery starts another). */
  readonly idleMs?: number
  /** Called when a thread has ended for being idle: the process has nothing to do (serve gives memory back). */
  readonly onIdleEnd?: () => void
}

/** How long a commit may wait for another connection's write lock before its deliveries get 503. */
const BUSY_LIMIT_MS = 5_000
/** How often the writer thread checkpoints the WAL (when something was written). */
const CHECKPOINT_MS = 1_000
/** How long the writer thread waits with nothing to do before it ends. */
const IDLE_MS = 30_000

/**
 * The writer thread's entry: the build's `dist/ledger-writer.js`; from source (tests), the
 * TypeScript module through tsx's loader inside the thread.
 */
const startThread = (data: WriterData): Worker => {
  const options = { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 } }
  const built = assetPath("ledger-writer.js")
  if (Fs.existsSync(built)) return new Worker(built, options)
  const source = pathToFileURL(assetPath("store/LedgerWorker.ts")).href
  const tsx = pathToFileURL(
    Path.join(Path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist/esm/api/index.mjs")
  ).href
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}))`,
    { ...options, eval: true }
  )
}

/** A delivery's answer: stored, or why not. */
export type RecordDone = (result: Stored | LedgerUnavailable) => void

interface Waiting extends Delivery {
  readonly done: RecordDone
}

/**
 * The main thread's side of the writer thread: hands deliveries over, resumes each with its
 * thread's answer, restarts the thread when it dies.
 */
const threadClient = (
  data: WriterData,
  queueLimit: number,
  lastWrite: { failure: string | undefined },
  idleMs: number,
  onIdleEnd: () => void
) => {
  let worker: Worker | undefined
  /** Threads ended for being idle, until they have closed their connection. */
  const retiring = new Set<Promise<void>>()
  let idleTimer: NodeJS.Timeout | undefined
  let closing = false
  let nextId = 1
  /** Deliveries sent, by request id, waiting for the thread's answer. */
  const sent = new Map<number, ReadonlyArray<Waiting>>()
  let outgoing: Array<Waiting> = []
  let flushScheduled = false
  /** Deliveries handed over and not yet answered (outgoing and sent). */
  let waiting = 0
  let onClosed: (() => void) | undefined

  const failAll = (message: string) => {
    for (const batch of sent.values()) {
      for (const w of batch) w.done(new LedgerUnavailable({ message }))
      waiting -= batch.length
    }
    sent.clear()
  }

  /**
   * Ends the thread when nothing waits: it commits nothing more, closes its connection and exits.
   * Nothing of it is waited for (every delivery it took was answered), so its exit fails nothing.
   */
  const retireIfIdle = () => {
    const w = worker
    if (w === undefined || closing || waiting > 0 || outgoing.length > 0) return
    worker = undefined
    const ended = new Promise<void>((resolve) => {
      // a thread that does not end within 10 s is stopped (it holds no answer anyone waits for)
      const stop = setTimeout(() => void w.terminate(), 10_000)
      stop.unref()
      w.once("exit", () => {
        clearTimeout(stop)
        if (!closing) onIdleEnd()
        resolve()
      })
      w.postMessage({ t: "close" } satisfies ToWriter)
    })
    retiring.add(ended)
    void ended.then(() => retiring.delete(ended))
  }
  /** Counts the idle time again from now (after an answer that left nothing waiting). */
  const nothingWaiting = () => {
    if (idleTimer === undefined) {
      idleTimer = setTimeout(retireIfIdle, idleMs)
      idleTimer.unref()
    } else {
      idleTimer.refresh()
    }
  }

  const spawn = () => {
    const w = startThread(data)
    worker = w
    w.unref()
    w.on("message", (m: FromWriter) => {
      // a thread ended for being idle has nothing left to answer
      if (w !== worker) return
      if (m.t === "done") {
        const batch = sent.get(m.id)
        if (batch === undefined) return
        sent.delete(m.id)
        waiting -= batch.length
        m.results.forEach((r: DeliveryResult, i) => {
          if ("failure" in r) {
            lastWrite.failure = r.failure
            batch[i].done(new LedgerUnavailable({ message: r.failure }))
          } else {
            lastWrite.failure = undefined
            batch[i].done(r)
          }
        })
        if (waiting === 0) nothingWaiting()
      } else if (m.t === "open-failed") {
        lastWrite.failure = m.message
        failAll(m.message)
      } else if (m.t === "closed") {
        onClosed?.()
      }
    })
    w.on("error", () => {
      // the thread's own error ends it: handled on "exit"
    })
    w.on("exit", (code) => {
      // a thread ended for being idle: nothing of it was waiting (see retireIfIdle)
      if (worker !== w) return
      worker = undefined
      const message = `ledger writer thread stopped (exit code ${code}); not stored, retry`
      if (sent.size > 0) lastWrite.failure = message
      failAll(message)
      if (closing) return onClosed?.()
      // a new thread for what comes next (and for what is still to be sent)
      if (outgoing.length > 0) scheduleFlush()
    })
  }

  const flush = () => {
    flushScheduled = false
    if (outgoing.length === 0) return
    const batch = outgoing
    outgoing = []
    if (worker === undefined) spawn()
    const id = nextId++
    sent.set(id, batch)
    const message: ToWriter = { t: "write", id, deliveries: batch.map(({ events, rejected }) => ({ events, rejected })) }
    worker!.postMessage(message)
  }
  const scheduleFlush = () => {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(flush)
  }

  /** Hands a delivery over; `done` is called once, with the thread's answer or why there is none. */
  const submit = (events: ReadonlyArray<UsageEvent>, rejected: ReadonlyArray<RejectedSpan>, done: RecordDone): void => {
    if (closing) return done(new LedgerUnavailable({ message: "ledger is closed" }))
    if (waiting >= queueLimit) {
      return done(new LedgerUnavailable({
        message: `ledger writer is behind (${waiting} deliveries waiting for the disk); not stored, retry`
      }))
    }
    waiting++
    outgoing.push({ events, rejected, done })
    scheduleFlush()
  }

  /** Sends what is waiting, lets the thread commit it and close its connection. */
  const close = () =>
    new Promise<void>((resolve) => {
      flush()
      closing = true
      if (idleTimer !== undefined) clearTimeout(idleTimer)
      const w = worker
      if (w === undefined) return void Promise.all(retiring).then(() => resolve())
      const timer = setTimeout(() => void w.terminate(), 10_000)
      onClosed = () => {
        clearTimeout(timer)
        void Promise.all(retiring).then(() => resolve())
      }
      w.postMessage({ t: "close" } satisfies ToWriter)
    })

  return {
    submit,
    close,
    /** The thread now running, if any (tests stop it to prove a restart loses nothing acknowledged). */
    thread: () => worker,
    waiting: () => waiting
  }
}

/** Opens the writers of `filename`: the main thread's connection, and the usage thread (started on first use). */
export const openWriter = (filename: string, sync: LedgerSync, options: WriterOptions = {}) => Effect.gen(function*() {
  const writer = yield* Effect.acquireRelease(
    Effect.try({
      try: () => {
        ownerOnly(filename)
        const db = new Sqlite(filename)
        configureWriter(db, sync, { autoCheckpoint: true })
        return db
      },
      catch: unavailable("open")
    }),
    (db) => Effect.sync(() => db.close())
  )
  /** The last commit's failure (one line), until a commit succeeds: what /ready reports. */
  const lastWrite: { failure: string | undefined } = { failure: undefined }
  const isBusy = (e: LedgerUnavailable) => isBusyMessage(e.message)
  const write = <A>(what: string, f: () => A) =>
    Effect.try({ try: f, catch: unavailable(what) }).pipe(
      Effect.tapBoth({
        onFailure: (e) => Effect.sync(() => void (isBusy(e) || (lastWrite.failure = e.message))),
        onSuccess: () => Effect.sync(() => void (lastWrite.failure = undefined))
      }),
      Effect.retry({ while: isBusy, schedule: Schedule.exponential("5 millis").pipe(Schedule.upTo(`${BUSY_LIMIT_MS} millis`)) })
    )

  const thread = yield* Effect.acquireRelease(
    Effect.sync(() =>
      threadClient(
        { filename, sync, busyLimitMs: BUSY_LIMIT_MS, checkpointMs: CHECKPOINT_MS },
        options.queueLimit ?? 1024,
        lastWrite,
        options.idleMs ?? IDLE_MS,
        options.onIdleEnd ?? (() => {})
      )
    ),
    (t) => Effect.promise(t.close)
  )

  const nothing: Stored = { accepted: 0, duplicates: 0, conflicts: 0 }
  /** The webhook's hand-over (plain callback: its hot path runs no fiber). */
  const submit = (events: ReadonlyArray<UsageEvent>, rejected: ReadonlyArray<RejectedSpan>, done: RecordDone): void =>
    events.length === 0 && rejected.length === 0 ? done(nothing) : thread.submit(events, rejected, done)
  const record = (
    events: ReadonlyArray<UsageEvent>,
    rejected: ReadonlyArray<RejectedSpan> = []
  ): Effect.Effect<Stored, LedgerUnavailable> =>
    Effect.async<Stored, LedgerUnavailable>((resume) =>
      submit(events, rejected, (r) => resume(r instanceof LedgerUnavailable ? Effect.fail(r) : Effect.succeed(r)))
    )
  return { db: writer, write, record, submit, lastWrite, thread }
})
