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

/** Opens `filename` (creating its folder), with `migrations` applied when given. */
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
        Fs.mkdirSync(Path.dirname(Path.resolve(filename)), { recursive: true })
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
