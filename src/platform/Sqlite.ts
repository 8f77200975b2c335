/** Opening one of our SQLite files: WAL, a busy timeout for the CLI beside the server, migrations. */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Migrator from "@effect/sql/Migrator"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqliteMigrator from "@effect/sql-sqlite-node/SqliteMigrator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"

export const sqliteLayer = (
  filename: string,
  migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>
) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); FULL would add an fsync per
      // commit that only protects against power loss, which the sender's retry covers until we answer.
      yield* sql.unsafe("PRAGMA synchronous = NORMAL")
      yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    })
  ).pipe(
    Layer.provideMerge(SqliteMigrator.layer({ loader: Migrator.fromRecord(migrations) })),
    Layer.provideMerge(
      Layer.unwrapEffect(Effect.sync(() => {
        Fs.mkdirSync(Path.dirname(Path.resolve(filename)), { recursive: true })
        return SqliteClient.layer({ filename })
      }))
    ),
    Layer.provide(NodeContext.layer)
  )

/** Runs a query with integers read as BigInt (exact beyond 2^53). */
export const safeIntegers = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideService(e, SqlClient.SafeIntegers, true)
