/**
 * A month's documents of every client as one ZIP: for each client whose month is closed, its
 * statement (PDF and CSV) and its FA(3) invoice draft, each fetched through the client's own typed
 * API and streamed into the archive as it arrives (yazl writes entries as they are added, so no more
 * than the documents in flight are held in memory). A job runs in the background and reports its
 * progress; the finished archive is a temporary file, downloaded once or dropped after an hour.
 * Clients left out (month open, unreachable, refused) are listed with why in the archive's
 * README.txt and in the progress.
 */
import { Duration, Effect } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import yazl from "yazl"
import { ACTION_TIMEOUT, describeFailure, Fleet, MAX_IN_FLIGHT } from "./Fleet.js"
import type { RegisteredClient } from "./Registry.js"

export interface ArchiveProgress {
  readonly id: string
  readonly month: string
  readonly state: "running" | "done" | "failed"
  readonly total: number
  readonly done: number
  readonly files: number
  readonly included: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<{ readonly id: string; readonly why: string }>
  readonly error: string | null
}

interface Job {
  progress: ArchiveProgress
  readonly file: string
  readonly createdAt: number
}

const KEEP = Duration.hours(1)

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_")

export class Archives extends Effect.Service<Archives>()("mai-usage/console/Archives", {
  scoped: Effect.gen(function*() {
    const fleet = yield* Fleet
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-console-"))),
      (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
    )
    const jobs = new Map<string, Job>()
    const scope = yield* Effect.scope

    const prune = () => {
      const now = Date.now()
      for (const [id, job] of jobs) {
        if (job.progress.state !== "running" && now - job.createdAt > Duration.toMillis(KEEP)) {
          Fs.rmSync(job.file, { force: true })
          jobs.delete(id)
        }
      }
    }

    const update = (job: Job, f: (p: ArchiveProgress) => Partial<ArchiveProgress>) => {
      job.progress = { ...job.progress, ...f(job.progress) }
    }

    /** One client's documents into the archive, or why not. */
    const addClient = (zip: yazl.ZipFile, job: Job, client: RegisteredClient, month: string) =>
      Effect.gen(function*() {
        const row = yield* fleet.rowOf(client, month, true)
        if (row.overview === null) return { why: row.error ?? row.status }
        if (row.overview.state.status !== "closed") return { why: `${month} is not closed` }
        const docs = yield* fleet.call(client, (api) =>
          Effect.all([
            // the PDF an accountant hands over (Polish); the CSV whose SHA-256 the close recorded (English)
            api.documents.statementPdf({ path: { month }, urlParams: { lang: "pl" } }),
            api.documents.statementCsv({ path: { month }, urlParams: {} }),
            api.invoices.fa3({ path: { month }, urlParams: {} })
          ]), ACTION_TIMEOUT).pipe(Effect.either)
        if (docs._tag === "Left") return { why: yield* fleet.scrub(describeFailure(docs.left, ACTION_TIMEOUT).error) }
        const [pdf, csv, xml] = docs.right
        const base = `${safe(client.id)}/mai-usage_${safe(client.orgId)}`
        zip.addBuffer(Buffer.from(pdf), `${base}_statement_${month}.pdf`)
        zip.addBuffer(Buffer.from(csv, "utf8"), `${base}_statement_${month}.csv`)
        zip.addBuffer(Buffer.from(xml, "utf8"), `${base}_FA3_${month}.xml`)
        update(job, (p) => ({ files: p.files + 3 }))
        return { why: undefined }
      })

    const run = (job: Job, clients: ReadonlyArray<RegisteredClient>, month: string) =>
      Effect.gen(function*() {
        const zip = new yazl.ZipFile()
        const out = Fs.createWriteStream(job.file, { mode: 0o600 })
        const written = new Promise<void>((resolve, reject) => {
          out.on("close", resolve)
          out.on("error", reject)
          zip.outputStream.on("error", reject)
        })
        zip.outputStream.pipe(out)
        yield* Effect.forEach(clients, (client) =>
          addClient(zip, job, client, month).pipe(
            Effect.tap(({ why }) =>
              Effect.sync(() =>
                update(job, (p) => ({
                  done: p.done + 1,
                  included: why === undefined ? [...p.included, client.id] : p.included,
                  skipped: why === undefined ? p.skipped : [...p.skipped, { id: client.id, why }]
                }))
              )
            )
          ), { concurrency: MAX_IN_FLIGHT, discard: true })
        const p = job.progress
        const readme = [
          `mai-usage: the documents of ${month}`,
          "",
          `Included (statement PDF and CSV, FA(3) invoice draft): ${p.included.length === 0 ? "none" : [...p.included].sort().join(", ")}`,
          ...(p.skipped.length === 0 ? [] : ["", "Left out:", ...[...p.skipped].sort((a, b) => (a.id < b.id ? -1 : 1)).map((s) => `- ${s.id}: ${s.why}`)]),
          ""
        ].join("\r\n")
        zip.addBuffer(Buffer.from(readme, "utf8"), "README.txt")
        zip.end()
        yield* Effect.promise(() => written)
        update(job, () => ({ state: "done" }))
        yield* Effect.logInfo("archive ready", { month, included: p.included.length, skipped: p.skipped.length })
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.sync(() => update(job, () => ({ state: "failed", error: String(cause).split("\n")[0].slice(0, 200) })))
        )
      )

    /** Starts the archive of `month` for the clients named (all when none); its id. */
    const start = (month: string, ids: ReadonlyArray<string> | undefined) =>
      Effect.gen(function*() {
        prune()
        const snapshot = yield* fleet.registry
        const clients = ids === undefined ? snapshot.clients : snapshot.clients.filter((c) => ids.includes(c.id))
        const id = Crypto.randomBytes(16).toString("hex")
        const job: Job = {
          file: Path.join(dir, `${id}.zip`),
          createdAt: Date.now(),
          progress: { id, month, state: "running", total: clients.length, done: 0, files: 0, included: [], skipped: [], error: null }
        }
        jobs.set(id, job)
        yield* Effect.forkIn(run(job, clients, month), scope)
        return job.progress
      })

    const progress = (id: string) => Effect.sync(() => jobs.get(id)?.progress)

    /** The finished archive's file, when the job is done. */
    const fileOf = (id: string) => Effect.sync(() => {
      const job = jobs.get(id)
      return job !== undefined && job.progress.state === "done" ? { file: job.file, month: job.progress.month } : undefined
    })

    return { start, progress, fileOf } as const
  })
}) {}

