/**
 * The console's settings, from the environment, read once: where the registry is (`CONSOLE_CLIENTS`,
 * the clients.json `compose render` reads; one per server, comma-separated, for several servers), where it listens (`CONSOLE_PORT`, default 8090;
 * `CONSOLE_HOST`), its own login token (`CONSOLE_ADMIN_TOKEN`, generated in `DATA_DIR` on first start
 * like the app's admin token when unset), and how clients without a `baseUrl` are reached
 * (`CONSOLE_CLIENTS_VIA`: `published`, the host port the renderer publishes, or `compose`, the
 * client's service on the compose network). A bad value is one line naming the variable (exit 2).
 */
import { Config, ConfigError, Context, Effect, Either, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ConfigInvalid, firstProblem } from "../platform/Config.js"
import { dashboardUrl, keptOrGenerated, MIN_SECRET_LENGTH } from "../platform/Secrets.js"

export type ClientsVia = "published" | "compose"

export interface ConsoleSettings {
  readonly port: number
  readonly host: string
  /** one clients.json per server (CONSOLE_CLIENTS, comma-separated) */
  readonly clientsFiles: ReadonlyArray<string>
  readonly dataDir: string
  readonly adminTokens: ReadonlyArray<Redacted.Redacted<string>>
  readonly clientsVia: ClientsVia
}

export class ConsoleConfig extends Context.Tag("mai-usage/ConsoleConfig")<ConsoleConfig, ConsoleSettings>() {}

/** The console's default port. */
export const CONSOLE_PORT = 8090

const checked = <A>(config: Config.Config<string>, parse: (text: string) => Either.Either<A, string>) =>
  Config.mapOrFail(config, (text) => Either.mapLeft(parse(text), (why) => ConfigError.InvalidData([], why)))

const port = (text: string) =>
  /^\d+$/.test(text) && Number(text) <= 65535 ? Either.right(Number(text)) : Either.left(`not a port number: ${text}`)

const tokens = (text: string) => {
  const list = text.split(",").map((t) => t.trim()).filter((t) => t !== "")
  return list.length > 0 && list.every((t) => t.length >= MIN_SECRET_LENGTH)
    ? Either.right(list.map((t) => Redacted.make(t)))
    : Either.left(`each token must be at least ${MIN_SECRET_LENGTH} characters (comma-separated during a rotation)`)
}

const via = (text: string): Either.Either<ClientsVia, string> =>
  text === "published" || text === "compose" ? Either.right(text) : Either.left(`expected published or compose, got ${text}`)

const environment = Config.all({
  port: checked(Config.string("CONSOLE_PORT"), port).pipe(Config.withDefault(CONSOLE_PORT)),
  host: Config.string("CONSOLE_HOST").pipe(Config.withDefault("0.0.0.0")),
  clientsFiles: Config.string("CONSOLE_CLIENTS").pipe(
    Config.withDefault("clients.json"),
    Config.map((list) => list.split(",").map((f) => f.trim()).filter((f) => f !== "").map((f) => Path.resolve(f)))
  ),
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault("./data"), Config.map((dir) => Path.resolve(dir))),
  adminTokens: Config.option(checked(Config.string("CONSOLE_ADMIN_TOKEN"), tokens)),
  clientsVia: checked(Config.string("CONSOLE_CLIENTS_VIA"), via).pipe(Config.withDefault<ClientsVia>("published"))
})

/** The settings; a generated token is announced once on stdout, with where to log in. */
export const readConsoleConfig = Effect.gen(function*() {
  const env = yield* Effect.mapError(environment, (e) => new ConfigInvalid({ message: firstProblem(e) }))
  yield* Effect.try({
    try: () => Fs.mkdirSync(env.dataDir, { recursive: true }),
    catch: (e) => new ConfigInvalid({ message: `DATA_DIR: cannot create ${env.dataDir}: ${(e as Error).message}` })
  })
  let adminTokens: ReadonlyArray<Redacted.Redacted<string>>
  if (Option.isSome(env.adminTokens)) {
    adminTokens = env.adminTokens.value
  } else {
    const kept = yield* keptOrGenerated(env.dataDir, "console-admin-token")
    adminTokens = [kept.secret]
    if (kept.generated !== undefined) {
      process.stdout.write(
        `CONSOLE_ADMIN_TOKEN was not set; generated one and kept it in ${env.dataDir}/console-admin-token:  ${kept.generated}\n` +
          `Console: ${dashboardUrl(env.host, env.port)} (log in with that token)\n`
      )
    }
  }
  return { ...env, adminTokens } satisfies ConsoleSettings
})
