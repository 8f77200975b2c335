/**
 * Every setting of the service, read and validated once. A bad value stops start-up with one line
 * naming the variable; secrets are `Redacted` so they never reach a log line.
 */
import { BigDecimal, Config, ConfigError, ConfigProvider, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { ExchangeRateRule } from "./domain/RateRule.js"
import { parseDay } from "./domain/WarsawDay.js"
import { maskUrl } from "./domain/Redact.js"
import { MIN_SECRET_LENGTH } from "./Secrets.js"

export type InfluxApi = "v1" | "v2"

export interface InfluxSettings {
  readonly url: string
  readonly token: Redacted.Redacted<string> | undefined
  readonly org: string | undefined
  readonly bucket: string
  readonly api: InfluxApi
  readonly measurement: string
}

export interface AppSettings {
  readonly port: number
  readonly host: string
  readonly clientOrgId: string
  readonly webhookSecrets: ReadonlyArray<Redacted.Redacted<string>>
  readonly apiKeyNames: ReadonlySet<string> | undefined
  readonly openRouterExternalUser: string | undefined
  readonly openRouterApiKey: Redacted.Redacted<string> | undefined
  /** undefined → embedded mode: the ledger is the usage store. */
  readonly influx: InfluxSettings | undefined
  readonly nbpServiceUrl: string | undefined
  readonly nbpApiUrl: string
  readonly dataDir: string
  readonly summaryDbPath: string
  readonly ledgerDbPath: string
  readonly openWebUiDatabaseUrl: Redacted.Redacted<string> | undefined
  readonly dailyBatchEnabled: boolean
  /** "HH:MM" */
  readonly dailyBatchTime: { readonly hour: number; readonly minute: number }
  readonly dailyBatchTimeZone: string
  readonly markup: BigDecimal.BigDecimal
  /** USAGE_MARKUP_EFFECTIVE_FROM: the Warsaw day a changed markup applies from; undefined → today. */
  readonly markupEffectiveFrom: string | undefined
  readonly exchangeRateRule: ExchangeRateRule
  readonly adminTokens: ReadonlyArray<Redacted.Redacted<string>>
  readonly maxBodyBytes: number
  /** the ledger's `PRAGMA synchronous`: `full` survives a power loss (see store/Ledger.ts) */
  readonly ledgerSync: "full" | "normal"
  readonly openRouter: OpenRouterSettings
}

/** OpenRouter's own API: reconciliation, key drift, Broadcast set-up. */
export interface OpenRouterSettings {
  readonly apiUrl: string
  /** activity reconciliation and destination set-up need it; unset → both are off */
  readonly managementKey: Redacted.Redacted<string> | undefined
  /** unset → looked up with the management key */
  readonly apiKeyHash: string | undefined
}

export class AppConfig extends Context.Tag("mai-usage/AppConfig")<AppConfig, AppSettings>() {}

/** A configuration problem, already phrased as the one line an operator reads. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", { message: Schema.String }) {}

const fail = (name: string, why: string) => Effect.fail(new ConfigInvalid({ message: `${name}: ${why}` }))

const optionalString = (name: string) =>
  Config.string(name).pipe(Config.option, Config.map(Option.flatMap(Option.liftPredicate((s) => s.trim() !== ""))))

/** A URL as it may be shown: credentials in it, in any shape, are masked. */
const shown = maskUrl

const url = (name: string, value: string) => {
  try {
    const u = new URL(value)
    if (u.protocol !== "http:" && u.protocol !== "https:") return fail(name, `not an http(s) URL: ${shown(value)}`)
    return Effect.succeed(value)
  } catch {
    return fail(name, `malformed URL: ${shown(value)}`)
  }
}

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/**
 * SQLAlchemy's spelling, as Open WebUI's template uses it: `sqlite:///relative/file.db`,
 * `sqlite:////absolute/file.db`; a plain path is accepted too.
 */
const sqlitePath = (name: string, value: string) => {
  const m = /^sqlite:\/\/\/(.+)$/.exec(value)
  if (m !== null) return Effect.succeed(Path.resolve(m[1]))
  if (!value.includes("://")) return Effect.succeed(Path.resolve(value))
  return fail(name, `expected sqlite:///relative/path.db or sqlite:////absolute/path.db, got ${shown(value)}`)
}

const splitList = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")


/**
 * A secret from the environment, or else one generated on first start and kept in DATA_DIR (0600).
 * A configured value shorter than `MIN_SECRET_LENGTH` stops start-up (naming the variable, never
 * the value); a kept file that holds no usable secret (empty, a lone newline) is regenerated.
 * The generated value is announced once, on the start that created it.
 */
const secretOrGenerated = (
  name: string,
  dataDir: string,
  fileName: string,
  value: Option.Option<string>,
  announce: (s: string) => string,
  announced: Array<string>
) =>
  Effect.gen(function*() {
    if (Option.isSome(value)) {
      const values = splitList(value.value)
      const short = values.findIndex((v) => v.length < MIN_SECRET_LENGTH)
      if (values.length === 0) return yield* fail(name, "is set but holds no value; unset it to have one generated")
      if (short !== -1) {
        return yield* fail(
          name,
          `${values.length > 1 ? `value ${short + 1} of ${values.length} is` : "the value is"} ${values[short].length} ` +
            `characters long; at least ${MIN_SECRET_LENGTH} are required (or unset it to have one generated)`
        )
      }
      return values.map(Redacted.make)
    }
    const file = Path.join(dataDir, fileName)
    const kept = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8").trim() : ""
    if (kept.length >= MIN_SECRET_LENGTH) return [Redacted.make(kept)]
    const secret = generateSecret()
    Fs.writeFileSync(file, secret + "\n", { mode: 0o600 })
    Fs.chmodSync(file, 0o600)
    announced.push(announce(secret))
    return [Redacted.make(secret)]
  })

/**
 * 256 random bits as 64 hex digits: nothing a shell, a header or a command line treats specially,
 * and never a leading `-` (base64url can start with one, which reads as an option).
 */
export const generateSecret = (): string => Crypto.randomBytes(32).toString("hex")

/** Where the dashboard answers on this machine, from HOST and PORT. */
export const dashboardUrl = (host: string, port: number): string => {
  const h = host === "0.0.0.0" || host === "::" || host === "" ? "localhost" : host.includes(":") ? `[${host}]` : host
  return `http://${h}:${port}/`
}

const read = Effect.gen(function*() {
  const env = yield* Config.all({
    port: Config.string("PORT").pipe(Config.withDefault("8080")),
    host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
    clientOrgId: Config.string("CLIENT_ORG_ID").pipe(Config.withDefault("default")),
    webhookSecret: optionalString("OPENROUTER_WEBHOOK_SECRET"),
    apiKeyNames: optionalString("OPENROUTER_API_KEY_NAMES"),
    externalUser: optionalString("OPENROUTER_EXTERNAL_USER"),
    openRouterApiKey: optionalString("OPENROUTER_API_KEY"),
    influxUrl: optionalString("INFLUXDB_URL"),
    influxToken: optionalString("INFLUXDB_TOKEN"),
    influxOrg: optionalString("INFLUXDB_ORG"),
    influxBucket: Config.string("INFLUXDB_BUCKET").pipe(Config.withDefault("mai-usage-tracking")),
    influxApi: Config.string("INFLUXDB_API").pipe(Config.withDefault("v2")),
    measurement: Config.string("INFLUXDB_MEASUREMENT").pipe(Config.withDefault("usage_tracking")),
    nbpServiceUrl: optionalString("NBP_SERVICE_URL"),
    nbpApiUrl: Config.string("NBP_API_URL").pipe(
      Config.withDefault("https://api.nbp.pl/api/exchangerates/rates/a/usd/")
    ),
    dataDir: Config.string("DATA_DIR").pipe(Config.withDefault("./data")),
    summaryDb: optionalString("USAGE_SUMMARY_DB"),
    ledgerDb: optionalString("USAGE_LEDGER_DB"),
    databaseUrl: optionalString("DATABASE_URL"),
    batchEnabled: Config.string("DAILY_BATCH_ENABLED").pipe(Config.withDefault("true")),
    batchTime: Config.string("DAILY_BATCH_TIME").pipe(Config.withDefault("13:00")),
    batchTz: Config.string("DAILY_BATCH_TIMEZONE").pipe(Config.withDefault("Europe/Warsaw")),
    markup: Config.string("USAGE_MARKUP_MULTIPLIER").pipe(Config.withDefault("1.3")),
    rule: Config.string("EXCHANGE_RATE_RULE").pipe(Config.withDefault("previous-business-day")),
    adminToken: optionalString("ADMIN_TOKEN"),
    maxBody: Config.string("MAX_BODY_BYTES").pipe(Config.withDefault("33554432")),
    ledgerSync: Config.string("LEDGER_SYNC").pipe(Config.withDefault("full")),
    // OpenRouter's API (reconciliation, key drift, Broadcast set-up)
    openRouterApiUrl: Config.string("OPENROUTER_API_URL").pipe(Config.withDefault("https://openrouter.ai/api/v1")),
    openRouterManagementKey: optionalString("OPENROUTER_MANAGEMENT_KEY"),
    openRouterApiKeyHash: optionalString("OPENROUTER_API_KEY_HASH")
  }).pipe(Effect.mapError((e) => new ConfigInvalid({ message: ConfigError.isConfigError(e) ? String(e) : "configuration error" })))

  const port = Number(env.port)
  if (!/^\d+$/.test(env.port) || port < 0 || port > 65535) return yield* fail("PORT", `not a port number: ${env.port}`)
  const time = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(env.batchTime)
  if (time === null) return yield* fail("DAILY_BATCH_TIME", `expected HH:MM (24-hour), got ${env.batchTime}`)
  if (!isTimeZone(env.batchTz)) return yield* fail("DAILY_BATCH_TIMEZONE", `unknown time zone: ${env.batchTz}`)
  const markup = BigDecimal.fromString(env.markup.trim())
  if (Option.isNone(markup) || !BigDecimal.isPositive(markup.value)) {
    return yield* fail("USAGE_MARKUP_MULTIPLIER", `expected a decimal greater than 0, got ${env.markup}`)
  }
  // Accounting: the day a changed markup takes effect (checked against closed months at start-up).
  const effectiveFrom = yield* optionalString("USAGE_MARKUP_EFFECTIVE_FROM").pipe(
    Effect.mapError(() => new ConfigInvalid({ message: "USAGE_MARKUP_EFFECTIVE_FROM: cannot be read" }))
  )
  if (Option.isSome(effectiveFrom) && parseDay(effectiveFrom.value.trim())._tag === "Left") {
    return yield* fail("USAGE_MARKUP_EFFECTIVE_FROM", `expected a calendar day YYYY-MM-DD, got ${effectiveFrom.value}`)
  }
  if (env.rule !== "previous-business-day" && env.rule !== "same-day") {
    return yield* fail("EXCHANGE_RATE_RULE", `expected previous-business-day or same-day, got ${env.rule}`)
  }
  if (env.influxApi !== "v1" && env.influxApi !== "v2") {
    return yield* fail("INFLUXDB_API", `expected v1 or v2, got ${env.influxApi}`)
  }
  const ledgerSync = env.ledgerSync.trim().toLowerCase()
  if (ledgerSync !== "full" && ledgerSync !== "normal") {
    return yield* fail("LEDGER_SYNC", `expected full or normal, got ${env.ledgerSync}`)
  }
  const maxBody = Number(env.maxBody)
  if (!/^\d+$/.test(env.maxBody) || maxBody < 1) return yield* fail("MAX_BODY_BYTES", `expected a positive integer, got ${env.maxBody}`)
  const batchEnabled = /^(true|1|yes|on)$/i.test(env.batchEnabled)
    ? true
    : /^(false|0|no|off)$/i.test(env.batchEnabled)
    ? false
    : yield* fail("DAILY_BATCH_ENABLED", `expected true or false, got ${env.batchEnabled}`)
  if (Option.isSome(env.influxUrl)) yield* url("INFLUXDB_URL", env.influxUrl.value)
  if (Option.isSome(env.nbpServiceUrl)) yield* url("NBP_SERVICE_URL", env.nbpServiceUrl.value)
  yield* url("NBP_API_URL", env.nbpApiUrl)
  yield* url("OPENROUTER_API_URL", env.openRouterApiUrl)
  if (Option.isSome(env.openRouterApiKeyHash) && !/^[A-Za-z0-9_-]{16,128}$/.test(env.openRouterApiKeyHash.value.trim())) {
    return yield* fail("OPENROUTER_API_KEY_HASH", "expected the key's hash as OpenRouter's keys API reports it (64 hex digits)")
  }
  const dataDir = Path.resolve(env.dataDir)
  yield* Effect.try({
    try: () => Fs.mkdirSync(dataDir, { recursive: true }),
    catch: (e) => new ConfigInvalid({ message: `DATA_DIR: cannot create ${dataDir}: ${(e as Error).message}` })
  })
  const summaryDbPath = Option.isSome(env.summaryDb)
    ? yield* sqlitePath("USAGE_SUMMARY_DB", env.summaryDb.value)
    : Path.join(dataDir, "usage_summary.db")
  const ledgerDbPath = Option.isSome(env.ledgerDb)
    ? yield* sqlitePath("USAGE_LEDGER_DB", env.ledgerDb.value)
    : Path.join(dataDir, "usage_ledger.db")
  const announced: Array<string> = []
  const webhookSecrets = yield* secretOrGenerated(
    "OPENROUTER_WEBHOOK_SECRET",
    dataDir,
    "webhook-secret",
    env.webhookSecret,
    (s) =>
      `OPENROUTER_WEBHOOK_SECRET was not set; generated one and kept it in ${dataDir}/webhook-secret.\n` +
      `In OpenRouter → Settings → Broadcast → Webhook, add this header:  Authorization: Bearer ${s}`,
    announced
  )
  const adminTokens = yield* secretOrGenerated(
    "ADMIN_TOKEN",
    dataDir,
    "admin-token",
    env.adminToken,
    (s) => `ADMIN_TOKEN was not set; generated one and kept it in ${dataDir}/admin-token:  ${s}`,
    announced
  )
  // Announced once, on the start that generated them, with where to use them.
  if (announced.length > 0) {
    announced.push(`Dashboard: ${dashboardUrl(env.host, port)} (log in with the admin token; API docs at /docs)`)
    process.stdout.write(announced.join("\n") + "\n")
  }
  const settings: AppSettings = {
    port,
    host: env.host,
    clientOrgId: env.clientOrgId,
    webhookSecrets,
    apiKeyNames: Option.isSome(env.apiKeyNames) ? new Set(splitList(env.apiKeyNames.value)) : undefined,
    openRouterExternalUser: Option.getOrUndefined(env.externalUser),
    openRouterApiKey: Option.getOrUndefined(Option.map(env.openRouterApiKey, Redacted.make)),
    influx: Option.isSome(env.influxUrl)
      ? {
        url: env.influxUrl.value.replace(/\/+$/, ""),
        token: Option.getOrUndefined(Option.map(env.influxToken, Redacted.make)),
        org: Option.getOrUndefined(env.influxOrg),
        bucket: env.influxBucket,
        api: env.influxApi,
        measurement: env.measurement
      }
      : undefined,
    nbpServiceUrl: Option.getOrUndefined(env.nbpServiceUrl),
    nbpApiUrl: env.nbpApiUrl,
    dataDir,
    summaryDbPath,
    ledgerDbPath,
    openWebUiDatabaseUrl: Option.getOrUndefined(Option.map(env.databaseUrl, Redacted.make)),
    dailyBatchEnabled: batchEnabled,
    dailyBatchTime: { hour: Number(time[1]), minute: Number(time[2]) },
    dailyBatchTimeZone: env.batchTz,
    markup: markup.value,
    markupEffectiveFrom: Option.getOrUndefined(Option.map(effectiveFrom, (s) => s.trim())),
    exchangeRateRule: env.rule,
    adminTokens,
    maxBodyBytes: maxBody,
    ledgerSync,
    openRouter: {
      apiUrl: env.openRouterApiUrl.replace(/\/+$/, ""),
      managementKey: Option.getOrUndefined(Option.map(env.openRouterManagementKey, (k) => Redacted.make(k.trim()))),
      apiKeyHash: Option.getOrUndefined(Option.map(env.openRouterApiKeyHash, (h) => h.trim()))
    }
  }
  return settings
})

/** Reads the configuration from the current `ConfigProvider` (the environment, by default). */
export const layer: Layer.Layer<AppConfig, ConfigInvalid> = Layer.effect(AppConfig, read)

const fromMap = (vars: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))

/** For tests: the same validation over a map of variables instead of the environment. */
export const layerFromMap = (vars: Record<string, string>) => layer.pipe(Layer.provide(fromMap(vars)))

export const validate = (vars: Record<string, string>) => Effect.either(Effect.provide(read, fromMap(vars)))
