/**
 * The user directory: Open WebUI's own database (`DATABASE_URL`), read-only, over SQLite
 * (`sqlite:///…`) or PostgreSQL (`postgresql://…`). Users (id, name, e-mail, role) and groups with
 * their members. Open WebUI keeps members either in `group.user_ids` (a JSON array, older
 * versions) or in a `group_member` table (newer ones): the database is asked which it has. Read at
 * start and every 10 minutes; a directory that cannot be read keeps the last good snapshot (or
 * none), is reported as degraded on /ready, and never fails anything else: names are an addition
 * to the ids, never a condition for billing.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Clock, Duration, Effect, Layer, Redacted, Ref, Schedule, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { maskUrlsIn } from "../domain/Redact.js"
import { AppConfig } from "../platform/Config.js"
import { Readiness } from "../platform/Readiness.js"

export interface DirectoryUser {
  readonly id: string
  readonly name: string
  readonly email: string
  readonly role: string
}

export interface DirectoryGroup {
  readonly id: string
  readonly name: string
  /** user ids */
  readonly members: ReadonlyArray<string>
}

export type MembershipLayout = "group_member" | "user_ids" | "none"

export interface Snapshot {
  readonly users: ReadonlyArray<DirectoryUser>
  readonly groups: ReadonlyArray<DirectoryGroup>
  readonly layout: MembershipLayout
  readonly readAt: string
}

export interface DirectoryState {
  readonly configured: boolean
  readonly snapshot: Snapshot | undefined
  /** the last read's failure, when it failed */
  readonly error: string | undefined
}

export class DirectoryError extends Schema.TaggedError<DirectoryError>()("DirectoryError", { message: Schema.String }) {}

export const REFRESH_EVERY = Duration.minutes(10)

/** The directory's database: SQLite by SQLAlchemy's spelling, or PostgreSQL. */
const clientLayer = (url: string): Layer.Layer<SqlClient.SqlClient, DirectoryError> => {
  const sqlite = /^sqlite:\/\/\/(.+)$/.exec(url)
  if (sqlite !== null) {
    const filename = Path.resolve(sqlite[1])
    return Layer.unwrapEffect(Effect.gen(function*() {
      // readonly: never created, never written; a missing file is a failure, not an empty directory.
      if (!Fs.existsSync(filename)) return yield* new DirectoryError({ message: `no such file: ${filename}` })
      return SqliteClient.layer({ filename, readonly: true, disableWAL: true })
    })).pipe(Layer.mapError((e) => (e instanceof DirectoryError ? e : new DirectoryError({ message: String(e) }))))
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // The PostgreSQL driver is loaded only for a PostgreSQL directory.
    return Layer.unwrapEffect(
      Effect.promise(() => import("@effect/sql-pg/PgClient")).pipe(
        Effect.map((PgClient) =>
          PgClient.layer({ url: Redacted.make(url), maxConnections: 1, connectTimeout: Duration.seconds(5) }).pipe(
            Layer.mapError((e) => new DirectoryError({ message: maskUrlsIn(String(e.message)) }))
          )
        )
      )
    )
  }
  return Layer.fail(new DirectoryError({ message: "DATABASE_URL: expected sqlite:///… or postgresql://…" }))
}

const memberIds = (value: unknown): ReadonlyArray<string> => {
  const list = typeof value === "string" ? (() => {
    try {
      return JSON.parse(value) as unknown
    } catch {
      return []
    }
  })() : value
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []
}

/** Which membership layout the database has, and its tables' columns. */
const layoutOf = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () =>
      Effect.all([
        sql<{ column_name: string }>`SELECT column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = 'group'`,
        sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_name = 'group_member'`
      ]),
    orElse: () =>
      Effect.all([
        sql<{ column_name: string }>`SELECT name AS column_name FROM pragma_table_info('group')`,
        sql<{ table_name: string }>`SELECT name AS table_name FROM sqlite_master WHERE type = 'table' AND name = 'group_member'`
      ])
  }).pipe(Effect.map(([groupColumns, memberTable]): MembershipLayout => {
    if (memberTable.length > 0) return "group_member"
    if (groupColumns.some((c) => c.column_name === "user_ids")) return "user_ids"
    return "none"
  }))

/** A driver's failure in one line: its message and its cause's (e.g. "file is not a database"), credentials masked. */
const reasonOf = (e: unknown): string => {
  const message = String((e as { message?: unknown }).message ?? e)
  const cause = (e as { cause?: { message?: unknown } }).cause?.message
  return maskUrlsIn(cause === undefined || String(cause) === message ? message : `${message}: ${String(cause)}`).split("\n")[0]
}

/** One read of the directory. */
export const readDirectory = (url: string): Effect.Effect<Snapshot, DirectoryError> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const users = yield* sql<{ id: string; name: string | null; email: string | null; role: string | null }>`
      SELECT id, name, email, role FROM "user" ORDER BY name, id`
    const layout = yield* layoutOf(sql)
    const groups: Array<DirectoryGroup> = []
    if (layout === "user_ids") {
      const rows = yield* sql<{ id: string; name: string | null; user_ids: unknown }>`SELECT id, name, user_ids FROM "group" ORDER BY name, id`
      for (const g of rows) groups.push({ id: g.id, name: g.name ?? g.id, members: memberIds(g.user_ids) })
    } else if (layout === "group_member") {
      const rows = yield* sql<{ id: string; name: string | null }>`SELECT id, name FROM "group" ORDER BY name, id`
      const members = yield* sql<{ group_id: string; user_id: string }>`SELECT group_id, user_id FROM group_member`
      for (const g of rows) {
        groups.push({ id: g.id, name: g.name ?? g.id, members: members.filter((m) => m.group_id === g.id).map((m) => m.user_id) })
      }
    }
    return {
      users: users.map((u) => ({ id: u.id, name: u.name ?? "", email: u.email ?? "", role: u.role ?? "" })),
      groups,
      layout,
      readAt: new Date(yield* Clock.currentTimeMillis).toISOString()
    }
  }).pipe(
    Effect.provide(clientLayer(url)),
    Effect.scoped,
    // A driver may throw where it opens (a defect): still the directory's failure, never the app's.
    Effect.catchAllDefect((d) => Effect.fail(d)),
    Effect.mapError((e) => (e instanceof DirectoryError ? e : new DirectoryError({ message: reasonOf(e) }))),
    Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new DirectoryError({ message: "the directory did not answer within 15 s" }) })
  )

/** A ledger user (what Open WebUI sent as OpenRouter's `user`: an id or an e-mail) in a snapshot. */
export const lookup = (snapshot: Snapshot | undefined, ledgerUser: string): DirectoryUser | undefined => {
  if (snapshot === undefined) return undefined
  const key = ledgerUser.trim().toLowerCase()
  return snapshot.users.find((u) => u.id === ledgerUser) ?? snapshot.users.find((u) => u.email.toLowerCase() === key)
}

/** The groups a directory user belongs to. */
export const groupsOf = (snapshot: Snapshot | undefined, user: DirectoryUser): ReadonlyArray<DirectoryGroup> =>
  snapshot === undefined ? [] : snapshot.groups.filter((g) => g.members.includes(user.id))

export class Directory extends Effect.Service<Directory>()("mai-usage/Directory", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    const url = config.openWebUiDatabaseUrl === undefined ? undefined : Redacted.value(config.openWebUiDatabaseUrl)
    const state = yield* Ref.make<DirectoryState>({ configured: url !== undefined, snapshot: undefined, error: undefined })
    const refresh: Effect.Effect<DirectoryState> = url === undefined
      ? Ref.get(state)
      : readDirectory(url).pipe(
        Effect.matchEffect({
          onSuccess: (snapshot) => Ref.updateAndGet(state, () => ({ configured: true, snapshot, error: undefined })),
          onFailure: (e) =>
            Effect.zipRight(
              Effect.logWarning("directory: cannot read Open WebUI's database; ids are shown without names", { error: e.message }),
              Ref.updateAndGet(state, (s) => ({ ...s, error: e.message }))
            )
        })
      )
    if (url !== undefined) yield* Effect.forkScoped(Effect.repeat(refresh, Schedule.spaced(REFRESH_EVERY)))
    return { state: Ref.get(state), refresh } as const
  })
}) {}

/**
 * /ready's "directory": off when DATABASE_URL is unset; degraded (still ready) when it cannot be
 * read, with why for an admin; otherwise how many users and groups, and the membership layout.
 */
export const DirectoryReadiness = Layer.effectDiscard(
  Effect.gen(function*() {
    const readiness = yield* Readiness
    const directory = yield* Directory
    readiness.register(
      "directory",
      Effect.map(directory.state, (s) =>
        !s.configured
          ? { ok: true, status: "off" }
          : s.error !== undefined
          ? { ok: true, status: "degraded", warning: `Open WebUI's database cannot be read: ${s.error}`, lastReadAt: s.snapshot?.readAt ?? null }
          : s.snapshot === undefined
          ? { ok: true, status: "starting" }
          : { ok: true, status: "ok", users: s.snapshot.users.length, groups: s.snapshot.groups.length, layout: s.snapshot.layout, readAt: s.snapshot.readAt })
    )
  })
)

/** The directory with its /ready check, for `serve`. */
export const DirectoryLive = Layer.merge(DirectoryReadiness, Directory.Default).pipe(Layer.provideMerge(Directory.Default))
