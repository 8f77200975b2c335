/**
 * Opening one of our SQLite files (WAL, a busy timeout for the CLI beside the server), and applying
 * an owner's migrations to an open file.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Migrator from "@effect/sql/Migrator"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqliteMigrator from "@effect/sql-sqlite-node/SqliteMigrator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"

export type Migrations = Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>

/**
 * Applies `migrations` (keys `0001_name` …) to the database `client` gives, recording them in
 * `table`. Several owners of tables in one file each keep their own record.
 */
export const migrationsLayer = <E, R>(
  client: Effect.Effect<SqlClient.SqlClient, E, R>,
  migrations: Migrations,
  table?: string
) =>
  SqliteMigrator.layer({ loader: Migrator.fromRecord(migrations), ...(table === undefined ? {} : { table }) }).pipe(
    Layer.provide(Layer.effect(SqlClient.SqlClient, client)),
    Layer.provide(NodeContext.layer)
  )

/**
 * The database file readable and writable by its owner only (0600), created so when missing; its
 * `-wal` and `-shm` too when they exist (SQLite creates them with the database file's mode). The
 * ledger holds users' e-mail addresses: no file of it is readable by others, like the secrets.
 */
export const ownerOnly = (filename: string): void => {
  Fs.mkdirSync(Path.dirname(Path.resolve(filename)), { recursive: true })
  Fs.closeSync(Fs.openSync(filename, "a", 0o600))
  for (const f of [filename, `${filename}-wal`, `${filename}-shm`, `${filename}-journal`]) {
    try {
      if ((Fs.statSync(f).mode & 0o777) !== 0o600) Fs.chmodSync(f, 0o600)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
    }
  }
}

/** Opens `filename` (creating its folder; owner-only modes), with `migrations` applied when given. */
export const sqliteLayer = (filename: string, migrations?: Migrations) => {
  const opened = Layer.effectDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); the ledger's writer sets
      // its own (LEDGER_SYNC) on its own connection.
      yield* sql.unsafe("PRAGMA synchronous = NORMAL")
      yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    })
  ).pipe(
    Layer.provideMerge(
      Layer.unwrapEffect(Effect.sync(() => {
        ownerOnly(filename)
        return SqliteClient.layer({ filename })
      }))
    )
  )
  return migrations === undefined
    ? opened
    : Layer.provideMerge(migrationsLayer(SqlClient.SqlClient, migrations), opened)
}

/** Runs a query with integers read as BigInt (exact beyond 2^53). */
export const safeIntegers = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideService(e, SqlClient.SafeIntegers, true)
