/**
 * The ledger writer's thread (`worker_threads`). It owns the ledger's write connection for usage:
 * it runs the group commit and its fsync, so a commit never stops the main thread's event loop.
 * Requests that arrive while a commit runs queue up in the port and share the next commit.
 *
 * A delivery's result goes back only after its transaction committed (with `LEDGER_SYNC=full`,
 * after the fsync): the main thread answers 2xx on that alone.
 *
 * Checkpoints (copying the WAL back into the database file, with its own fsync) run here on a
 * timer, never inside a commit that deliveries wait for (`wal_autocheckpoint = 0`).
 */
import Sqlite from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"
import {
  configureWriter,
  type Delivery,
  type DeliveryResult,
  failureText,
  type FromWriter,
  makeCommitter,
  type ToWriter,
  type WriterData
} from "./LedgerCommit.js"

const port = parentPort!
const data = workerData as WriterData
const send = (m: FromWriter) => port.postMessage(m)

let db: Sqlite.Database
let committer: ReturnType<typeof makeCommitter>
try {
  db = new Sqlite(data.filename)
  configureWriter(db, data.sync, { autoCheckpoint: false })
  committer = makeCommitter(db)
} catch (e) {
  send({ t: "open-failed", message: failureText("open", e) })
  process.exit(1)
}

interface Request {
  readonly id: number
  readonly deliveries: ReadonlyArray<Delivery>
}
let queue: Array<Request> = []
let scheduled = false
let closing = false
/** Since when another connection has held the write lock against us (0: not busy). */
let busySince = 0
let dirty = false
let checkpointTimer: NodeJS.Timeout | undefined

const checkpoint = () => {
  checkpointTimer = undefined
  if (!dirty) return
  dirty = false
  try {
    db.pragma("wal_checkpoint(PASSIVE)")
  } catch {
    // a checkpoint that cannot run now (busy, I/O) runs at the next one; commits are unaffected
  }
}

const answer = (batch: ReadonlyArray<Request>, results: ReadonlyArray<DeliveryResult>) => {
  let i = 0
  for (const r of batch) {
    send({ t: "done", id: r.id, results: results.slice(i, i + r.deliveries.length) })
    i += r.deliveries.length
  }
}

const run = () => {
  scheduled = false
  const batch = queue
  queue = []
  if (batch.length === 0) return
  const deliveries = batch.flatMap((r) => r.deliveries)
  const now = Date.now()
  const results = committer.commit(deliveries, now)
  if (results === "busy") {
    if (busySince === 0) busySince = now
    if (now - busySince < data.busyLimitMs) {
      // Another connection holds the write lock: try again shortly, the requests wait in order.
      queue = batch.concat(queue)
      scheduled = true
      setTimeout(run, 5)
      return
    }
    busySince = 0
    const failure = { failure: "ledger write failed: database is locked (another process held the write lock too long)" }
    answer(batch, deliveries.map(() => failure))
    return
  }
  busySince = 0
  dirty = true
  answer(batch, results)
  checkpointTimer ??= setTimeout(checkpoint, data.checkpointMs)
  if (closing && queue.length === 0) close()
}

const close = () => {
  if (checkpointTimer !== undefined) clearTimeout(checkpointTimer)
  try {
    db.close()
  } finally {
    send({ t: "closed" })
    port.close()
  }
}

port.on("message", (m: ToWriter) => {
  if (m.t === "close") {
    closing = true
    if (!scheduled && queue.length === 0) close()
    return
  }
  queue.push(m)
  if (!scheduled) {
    scheduled = true
    setImmediate(run)
  }
})
send({ t: "ready" })
