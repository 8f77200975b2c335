/**
 * The console's registry: the clients of `clients.json` (the file `compose render` reads; one per
 * server when the console serves several), each with where the console reaches it and its admin token. Reloaded when the file changes; a file
 * that no longer parses keeps the last good registry and says why (never quoting a value).
 *
 * - Base URL: the client's `baseUrl`, else `http://<bindAddress>:<port>` as the renderer publishes
 *   it (a wildcard bind address is reached on loopback), or, with `CONSOLE_CLIENTS_VIA=compose`,
 *   the client's service on the compose network (`http://mai-<id>:8080`).
 * - Admin token: the client's `adminToken` (the first of a rotation list), else the first line of
 *   `adminTokenFile`; with `CONSOLE_CLIENTS_VIA=compose` and neither, the token the container
 *   generated in its data volume, mounted read-only at `/clients/<id>/admin-token`.
 * Tokens stay `Redacted`: never in a page, an answer, a log line or an error.
 */
import { Effect, Either, Redacted, Ref, Runtime, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { DEFAULT_BIND_ADDRESS } from "../deploy/renderCompose.js"
import { type ClientsFile, parseClientsFile } from "../deploy/ClientsFile.js"
import { MIN_SECRET_LENGTH } from "../platform/Secrets.js"
import { type ClientsVia, ConsoleConfig } from "./ConsoleConfig.js"

export interface RegisteredClient {
  readonly id: string
  readonly orgId: string
  readonly baseUrl: string
  /** undefined when no usable token was found: `problem` says why */
  readonly token: Redacted.Redacted<string> | undefined
  readonly problem: string | undefined
}

export interface RegistrySnapshot {
  readonly clients: ReadonlyArray<RegisteredClient>
  /** why the file (as it is now) could not be used; the clients are then the last good ones */
  readonly error: string | undefined
  readonly loadedAt: string
}

/** Where a client's generated admin token is mounted in the compose service. */
export const composeTokenFile = (id: string) => `/clients/${id}/admin-token`

const baseUrlOf = (file: ClientsFile, client: ClientsFile["clients"][number], via: ClientsVia): string => {
  if (client.baseUrl !== undefined) return client.baseUrl.replace(/\/+$/, "")
  if (via === "compose") return `http://mai-${client.id}:8080`
  const bind = file.bindAddress ?? DEFAULT_BIND_ADDRESS
  return `http://${bind === "0.0.0.0" ? "127.0.0.1" : bind}:${client.port}`
}

const tokenOf = (client: ClientsFile["clients"][number], dir: string, via: ClientsVia) => {
  if (client.adminToken !== undefined) return { token: Redacted.make(client.adminToken.split(",")[0]), problem: undefined }
  const file = client.adminTokenFile !== undefined
    ? Path.resolve(dir, client.adminTokenFile)
    : via === "compose"
    ? composeTokenFile(client.id)
    : undefined
  if (file === undefined) {
    return { token: undefined, problem: "no admin token: set adminToken or adminTokenFile for this client in clients.json" }
  }
  try {
    const text = Fs.readFileSync(file, "utf8").split("\n")[0].trim()
    return text.length >= MIN_SECRET_LENGTH
      ? { token: Redacted.make(text), problem: undefined }
      : { token: undefined, problem: `the admin token file ${file} holds no token of at least ${MIN_SECRET_LENGTH} characters` }
  } catch (e) {
    return { token: undefined, problem: `the admin token file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` }
  }
}

/** The registry of a parsed file; token files are read relative to the file's folder. */
export const registryOf = (file: ClientsFile, path: string, via: ClientsVia): ReadonlyArray<RegisteredClient> =>
  file.clients.map((client) => ({
    id: client.id,
    orgId: client.orgId,
    baseUrl: baseUrlOf(file, client, via),
    ...tokenOf(client, Path.dirname(path), via)
  }))

const loadOne = (path: string, via: ClientsVia): Either.Either<ReadonlyArray<RegisteredClient>, string> => {
  let text: string
  try {
    text = Fs.readFileSync(path, "utf8")
  } catch (e) {
    return Either.left(`${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`)
  }
  return parseClientsFile(text).pipe(
    Either.mapLeft((why) => `${path}: ${why}`),
    Either.map((file) => registryOf(file, path, via))
  )
}

/** Every file's clients (one file per server); a client id must be unique across them. */
const load = (paths: ReadonlyArray<string>, via: ClientsVia): Either.Either<ReadonlyArray<RegisteredClient>, string> => {
  const all: Array<RegisteredClient> = []
  const where = new Map<string, string>()
  for (const path of paths) {
    const one = loadOne(path, via)
    if (Either.isLeft(one)) return one
    for (const client of one.right) {
      const first = where.get(client.id)
      if (first !== undefined) return Either.left(`${path}: client id "${client.id}" is also in ${first}: ids must be unique across servers`)
      where.set(client.id, path)
      all.push(client)
    }
  }
  return Either.right(all)
}

/** How often the file's modification time is looked at (a poll survives editors that replace the file). */
export const WATCH_INTERVAL_MS = 1000

/** The registry of `paths`, each watched for changes until the scope closes. */
export const makeRegistry = (paths: ReadonlyArray<string>, via: ClientsVia): Effect.Effect<{ readonly current: Effect.Effect<RegistrySnapshot>; readonly reload: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const first = load(paths, via)
    const state = yield* Ref.make<RegistrySnapshot>({
      clients: Either.getOrElse(first, () => []),
      error: Either.isLeft(first) ? first.left : undefined,
      loadedAt: new Date().toISOString()
    })
    const reload = Effect.flatMap(Effect.sync(() => load(paths, via)), (next) =>
      Ref.update(state, (old) =>
        Either.isRight(next)
          ? { clients: next.right, error: undefined, loadedAt: new Date().toISOString() }
          : { ...old, error: next.left }
      ).pipe(
        Effect.zipRight(
          Either.isRight(next)
            ? Effect.logInfo("registry loaded", { clients: next.right.length })
            : Effect.logWarning("registry not reloaded", { reason: next.left })
        )
      ))
    if (Either.isLeft(first)) yield* Effect.logWarning("registry not loaded", { reason: first.left })
    else yield* Effect.logInfo("registry loaded", { clients: first.right.length })
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const onChange = (curr: Fs.Stats, prev: Fs.Stats) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) runFork(reload)
    }
    for (const path of paths) {
      yield* Effect.acquireRelease(
        Effect.sync(() => Fs.watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange)),
        () => Effect.sync(() => Fs.unwatchFile(path, onChange))
      )
    }
    return { current: Ref.get(state), reload }
  })

/** The process's registry, from `CONSOLE_CLIENTS`. */
export class Registry extends Effect.Service<Registry>()("mai-usage/console/Registry", {
  scoped: Effect.flatMap(ConsoleConfig, (c) => makeRegistry(c.clientsFiles, c.clientsVia))
}) {}
