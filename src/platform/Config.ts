/**
 * Every setting of the service, read and validated once with Effect's `Config` combinators. A bad
 * value stops start-up with one line naming the variable (`NAME: why`); secrets are `Redacted` so
 * they never reach a log line. Secrets left unset are generated in DATA_DIR (`Secrets.ts`).
 */
import { BigDecimal, Config, ConfigError, ConfigProvider, Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { DEFAULT_NUMBER_PATTERN, INVOICE_LINE_MODES, type InvoiceLineMode, isInvoiceNip, isOneLine, numberPatternProblem, VAT_RATES, type VatRate } from "../domain/Invoice.js"
import { isValidNip, NIP_RULE } from "../domain/Nip.js"
import { isOrgId, ORG_ID_RULE } from "../domain/OrgId.js"
import { ExchangeRateRule } from "../domain/RateRule.js"
import { parseDay } from "../domain/WarsawDay.js"
import { maskUrl } from "../domain/Redact.js"
import { announceGenerated, keptOrGenerated, MIN_SECRET_LENGTH } from "./Secrets.js"

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
  /** deliveries handed to the ledger's writer thread and not yet committed; more get 503 */
  readonly ledgerQueueLimit: number
  readonly openRouter: OpenRouterSettings
  readonly invoice: InvoiceSettings
  readonly alerts: AlertSettings
}

/**
 * Budget alerts and enforcement (`alerts/`): the channels an alert goes through, its language, and
 * whether budgets become limits on the client's OpenRouter keys. No channel → alerts are recorded only.
 */
export interface AlertSettings {
  readonly webhookUrl: string | undefined
  /** signs each webhook body (`X-Mai-Signature: sha256=<HMAC>`); required with the URL */
  readonly webhookSecret: Redacted.Redacted<string> | undefined
  /** smtp://[user:pass@]host:port or smtps://…; a secret (it may carry a password) */
  readonly smtpUrl: Redacted.Redacted<string> | undefined
  readonly emailTo: ReadonlyArray<string>
  readonly emailFrom: string
  readonly language: "pl" | "en"
  /** BUDGET_ENFORCE=openrouter: the client's budget becomes a `limit` on its OpenRouter keys */
  readonly enforce: boolean
}

/**
 * The FA(3) invoice draft (`billing/InvoiceDraft.ts`): the seller (the reseller), the buyer (this
 * client), the number pattern, the VAT rate and the lines. A party's field left unset is refused
 * by the draft when FA(3) needs it (both NIPs, the seller's name and address), never at start-up:
 * a service that never drafts an invoice needs none of them.
 */
export interface InvoiceSettings {
  readonly resellerName: string | undefined
  /** checked at start-up: the check digit, and FA(3)'s shape */
  readonly resellerNip: string | undefined
  readonly resellerAddress: string | undefined
  /** CLIENT_NAME; unset → the client organisation id */
  readonly clientName: string
  readonly clientNip: string | undefined
  readonly clientAddress: string | undefined
  /** INVOICE_NUMBER_PATTERN: {YYYY}, {MM}, {CLIENT} */
  readonly numberPattern: string
  readonly vatRate: VatRate
  readonly lines: InvoiceLineMode
}

/** OpenRouter's own API: reconciliation, key drift, Broadcast set-up. */
export interface OpenRouterSettings {
  readonly apiUrl: string
  /** activity reconciliation and destination set-up need it; unset → both are off */
  readonly managementKey: Redacted.Redacted<string> | undefined
  /** the client's keys (OPENROUTER_API_KEY_HASH, comma-separated); unset → looked up with the management key */
  readonly apiKeyHashes: ReadonlyArray<string> | undefined
  /** OPENROUTER_WORKSPACE_ID: scopes destinations and activity to one workspace; unset → the default workspace */
  readonly workspaceId: string | undefined
}

export class AppConfig extends Context.Tag("mai-usage/AppConfig")<AppConfig, AppSettings>() {}

/** A configuration problem, already phrased as the one line an operator reads. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", { message: Schema.String }) {}

/**
 * A variable's text through `parse`; `Left(why)` stops start-up with `NAME: why` (the provider
 * adds the name as the path). `Config.port`, `Config.url`, `Config.boolean` and `Config.literal`
 * are not used as they are: `Config.port` refuses 0 (a free port, used by the tests and the
 * benchmark), `Config.url` accepts any scheme and quotes the whole value, credentials included,
 * `Config.boolean` and `Config.literal` are case-sensitive where we are not and word their
 * messages differently from the documented ones.
 */
const parsed = <A>(parse: (text: string) => Either.Either<A, string>) =>
  Config.mapOrFail((text: string) => Either.mapLeft(parse(text), (why) => ConfigError.InvalidData([], why)))

/** A variable that may be unset; an empty value counts as unset. */
const optional = <A>(name: string, parse: (text: string) => Either.Either<A, string>) =>
  Config.string(name).pipe(
    parsed((text) => (text.trim() === "" ? Either.right(Option.none<A>()) : Either.map(parse(text), Option.some))),
    Config.withDefault(Option.none<A>())
  )

const optionalString = (name: string) => optional(name, Either.right)

/** A secret that may be unset (an empty value counts as unset). */
const optionalSecret = (name: string) =>
  Config.redacted(name).pipe(
    Config.option,
    Config.map(Option.flatMap(Option.liftPredicate((r) => Redacted.value(r).trim() !== "")))
  )

const oneOf = <const L extends string>(...literals: ReadonlyArray<L>) => (text: string): Either.Either<L, string> =>
  literals.includes(text as L) ? Either.right(text as L) : Either.left(`expected ${literals.join(" or ")}, got ${text}`)

/** A URL as it may be shown: credentials in it, in any shape, are masked. */
const shown = maskUrl

const httpUrl = (value: string): Either.Either<string, string> => {
  try {
    const u = new URL(value)
    return u.protocol === "http:" || u.protocol === "https:"
      ? Either.right(value)
      : Either.left(`not an http(s) URL: ${shown(value)}`)
  } catch {
    return Either.left(`malformed URL: ${shown(value)}`)
  }
}

const port = (text: string): Either.Either<number, string> =>
  /^\d+$/.test(text) && Number(text) <= 65535 ? Either.right(Number(text)) : Either.left(`not a port number: ${text}`)

const positiveInteger = (text: string): Either.Either<number, string> =>
  /^\d+$/.test(text) && Number(text) >= 1 ? Either.right(Number(text)) : Either.left(`expected a positive integer, got ${text}`)

const onOff = (text: string): Either.Either<boolean, string> =>
  /^(true|1|yes|on)$/i.test(text)
    ? Either.right(true)
    : /^(false|0|no|off)$/i.test(text)
    ? Either.right(false)
    : Either.left(`expected true or false, got ${text}`)

const clockTime = (text: string): Either.Either<{ readonly hour: number; readonly minute: number }, string> => {
  const time = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text)
  return time === null
    ? Either.left(`expected HH:MM (24-hour), got ${text}`)
    : Either.right({ hour: Number(time[1]), minute: Number(time[2]) })
}

const timeZone = (tz: string): Either.Either<string, string> => {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz })
    return Either.right(tz)
  } catch {
    return Either.left(`unknown time zone: ${tz}`)
  }
}

const markup = (text: string): Either.Either<BigDecimal.BigDecimal, string> => {
  const value = BigDecimal.fromString(text.trim())
  return Option.isSome(value) && BigDecimal.isPositive(value.value)
    ? Either.right(value.value)
    : Either.left(`expected a decimal greater than 0, got ${text}`)
}

const calendarDay = (text: string): Either.Either<string, string> =>
  Either.isRight(parseDay(text.trim()))
    ? Either.right(text.trim())
    : Either.left(`expected a calendar day YYYY-MM-DD, got ${text}`)

const ledgerSync = (text: string) => oneOf("full", "normal")(text.trim().toLowerCase()).pipe(
  Either.mapLeft(() => `expected full or normal, got ${text}`)
)

const apiKeyHashes = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  const hashes = text.split(",").map((h) => h.trim())
  return hashes.every((h) => /^[A-Za-z0-9_-]{16,128}$/.test(h))
    ? Either.right([...new Set(hashes)])
    : Either.left("expected the keys' hashes as OpenRouter's keys API reports them (64 hex digits each, comma-separated)")
}

const workspaceId = (text: string): Either.Either<string, string> =>
  /^[A-Za-z0-9_-]{1,128}$/.test(text.trim())
    ? Either.right(text.trim())
    : Either.left("expected an OpenRouter workspace id (letters, digits, '-' or '_')")

/** A NIP: the check digit (domain/Nip.ts) and the shape FA(3) accepts. */
const nip = (text: string): Either.Either<string, string> => {
  const value = text.trim()
  if (!isValidNip(value)) return Either.left(`must be ${NIP_RULE}; got ${JSON.stringify(value.slice(0, 40))}`)
  if (!isInvoiceNip(value)) return Either.left(`${value} is not a NIP an invoice accepts: its first three digits are a tax office's code, never 0xx or x00`)
  return Either.right(value)
}

/** A name or an address as an invoice prints it: one line, at most 512 characters (FA(3)'s limit). */
const invoiceLine = (text: string): Either.Either<string, string> => {
  const value = text.trim()
  return isOneLine(value) && value.length <= 512
    ? Either.right(value)
    : Either.left("must be one line of text (no line breaks or control characters) of at most 512 characters")
}

const numberPattern = (text: string): Either.Either<string, string> => {
  const why = numberPatternProblem(text.trim())
  return why === undefined ? Either.right(text.trim()) : Either.left(why)
}

const vatRate = (text: string): Either.Either<VatRate, string> => {
  const value = text.trim()
  return (VAT_RATES as ReadonlyArray<string>).includes(value)
    ? Either.right(value as VatRate)
    : Either.left(`expected ${VAT_RATES.join(", ")} (per cent; 0 is FA(3)'s "0 KR", a domestic 0 % sale), got ${text}`)
}

/**
 * SQLAlchemy's spelling, as Open WebUI's template uses it: `sqlite:///relative/file.db`,
 * `sqlite:////absolute/file.db`; a plain path is accepted too.
 */
const sqlitePath = (value: string): Either.Either<string, string> => {
  const m = /^sqlite:\/\/\/(.+)$/.exec(value)
  if (m !== null) return Either.right(Path.resolve(m[1]))
  if (!value.includes("://")) return Either.right(Path.resolve(value))
  return Either.left(`expected sqlite:///relative/path.db or sqlite:////absolute/path.db, got ${shown(value)}`)
}

/** SMTP_URL: smtp:// or smtps://, kept as a secret (it may carry the password). */
const smtpUrl = (value: string): Either.Either<Redacted.Redacted<string>, string> => {
  try {
    const u = new URL(value.trim())
    return u.protocol === "smtp:" || u.protocol === "smtps:"
      ? Either.right(Redacted.make(value.trim()))
      : Either.left(`expected smtp://host:port or smtps://user:password@host:port, got ${shown(value)}`)
  } catch {
    return Either.left(`malformed URL: ${shown(value)}`)
  }
}

/** Comma-separated e-mail addresses (a simple shape check: one @, no spaces). */
const emailList = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  const list = text.split(",").map((x) => x.trim()).filter((x) => x !== "")
  const bad = list.find((a) => !/^[^\s@,<>]+@[^\s@,<>]+$/.test(a))
  return bad !== undefined || list.length === 0
    ? Either.left(`expected e-mail addresses separated by commas, got ${JSON.stringify((bad ?? text).slice(0, 80))}`)
    : Either.right(list)
}

const splitList = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")

/**
 * Configured secrets (comma-separated for rotation). One shorter than `MIN_SECRET_LENGTH` stops
 * start-up, naming the variable and which value, never the value; unset → generated later.
 */
const secretList = (text: string): Either.Either<ReadonlyArray<Redacted.Redacted<string>>, string> => {
  const values = splitList(text)
  const short = values.findIndex((v) => v.length < MIN_SECRET_LENGTH)
  if (values.length === 0) return Either.left("is set but holds no value; unset it to have one generated")
  if (short !== -1) {
    return Either.left(
      `${values.length > 1 ? `value ${short + 1} of ${values.length} is` : "the value is"} ${values[short].length} ` +
        `characters long; at least ${MIN_SECRET_LENGTH} are required (or unset it to have one generated)`
    )
  }
  return Either.right(values.map(Redacted.make))
}

/** `Config.withDefault` for a parsed variable: unset → `fallback`, set → checked. */
const variable = <A>(name: string, fallback: A, parse: (text: string) => Either.Either<A, string>) =>
  Config.string(name).pipe(parsed(parse), Config.withDefault(fallback))

/** Every variable, checked; what needs the file system (DATA_DIR, generated secrets) comes after. */
const environment = Config.all({
  port: variable("PORT", 8080, port),
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  clientOrgId: Config.string("CLIENT_ORG_ID").pipe(
    parsed((t) => (isOrgId(t) ? Either.right(t) : Either.left(`must be ${ORG_ID_RULE}, got ${JSON.stringify(t.slice(0, 80))}`))),
    Config.withDefault("default")
  ),
  batchTime: variable("DAILY_BATCH_TIME", { hour: 13, minute: 0 }, clockTime),
  batchTz: variable("DAILY_BATCH_TIMEZONE", "Europe/Warsaw", timeZone),
  markup: variable("USAGE_MARKUP_MULTIPLIER", BigDecimal.unsafeFromString("1.3"), markup),
  // Accounting: the day a changed markup takes effect (checked against closed months at start-up).
  markupEffectiveFrom: optional("USAGE_MARKUP_EFFECTIVE_FROM", calendarDay),
  rule: variable("EXCHANGE_RATE_RULE", "previous-business-day", oneOf(...ExchangeRateRule.literals)),
  influxApi: variable("INFLUXDB_API", "v2", oneOf("v1", "v2")),
  ledgerSync: variable("LEDGER_SYNC", "full", ledgerSync),
  ledgerQueueLimit: variable("LEDGER_QUEUE_LIMIT", 1024, positiveInteger),
  maxBody: variable("MAX_BODY_BYTES", 33_554_432, positiveInteger),
  batchEnabled: variable("DAILY_BATCH_ENABLED", true, onOff),
  influxUrl: optional("INFLUXDB_URL", httpUrl),
  nbpServiceUrl: optional("NBP_SERVICE_URL", httpUrl),
  nbpApiUrl: variable("NBP_API_URL", "https://api.nbp.pl/api/exchangerates/rates/a/usd/", httpUrl),
  openRouterApiUrl: variable("OPENROUTER_API_URL", "https://openrouter.ai/api/v1", httpUrl),
  openRouterApiKeyHashes: optional("OPENROUTER_API_KEY_HASH", apiKeyHashes),
  openRouterWorkspaceId: optional("OPENROUTER_WORKSPACE_ID", workspaceId),
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault("./data"), Config.map((dir) => Path.resolve(dir))),
  summaryDb: optional("USAGE_SUMMARY_DB", sqlitePath),
  ledgerDb: optional("USAGE_LEDGER_DB", sqlitePath),
  webhookSecrets: optional("OPENROUTER_WEBHOOK_SECRET", secretList),
  adminTokens: optional("ADMIN_TOKEN", secretList),
  apiKeyNames: optional("OPENROUTER_API_KEY_NAMES", (names) => Either.right(new Set(splitList(names)))),
  externalUser: optionalString("OPENROUTER_EXTERNAL_USER"),
  openRouterApiKey: optionalSecret("OPENROUTER_API_KEY"),
  influxToken: optionalSecret("INFLUXDB_TOKEN"),
  influxOrg: optionalString("INFLUXDB_ORG"),
  influxBucket: Config.string("INFLUXDB_BUCKET").pipe(Config.withDefault("mai-usage-tracking")),
  measurement: Config.string("INFLUXDB_MEASUREMENT").pipe(Config.withDefault("usage_tracking")),
  databaseUrl: optionalSecret("DATABASE_URL"),
  openRouterManagementKey: optionalSecret("OPENROUTER_MANAGEMENT_KEY").pipe(
    Config.map(Option.map((key) => Redacted.make(Redacted.value(key).trim())))
  ),
  // The FA(3) invoice draft: the parties (deploy/settings.ts renders them from clients.json) and its options.
  resellerName: optional("RESELLER_NAME", invoiceLine),
  resellerNip: optional("RESELLER_NIP", nip),
  resellerAddress: optional("RESELLER_ADDRESS", invoiceLine),
  clientName: optional("CLIENT_NAME", invoiceLine),
  clientNip: optional("CLIENT_NIP", nip),
  clientAddress: optional("CLIENT_ADDRESS", invoiceLine),
  invoiceNumberPattern: variable("INVOICE_NUMBER_PATTERN", DEFAULT_NUMBER_PATTERN, numberPattern),
  invoiceVatRate: variable("INVOICE_VAT_RATE", "23", vatRate),
  alertWebhookUrl: optional("ALERT_WEBHOOK_URL", httpUrl),
  alertWebhookSecret: optional("ALERT_WEBHOOK_SECRET", (t) =>
    t.trim().length >= MIN_SECRET_LENGTH ? Either.right(Redacted.make(t.trim())) : Either.left(`must be at least ${MIN_SECRET_LENGTH} characters long`)),
  smtpUrl: optional("SMTP_URL", smtpUrl),
  alertEmailTo: optional("ALERT_EMAIL_TO", emailList),
  alertEmailFrom: variable("ALERT_EMAIL_FROM", "mai-usage@localhost", (t) => emailList(t).pipe(Either.flatMap((l) => l.length === 1 ? Either.right(l[0]) : Either.left("expected one e-mail address")))),
  alertLanguage: variable("ALERT_LANGUAGE", "pl", (t) => oneOf("pl", "en")(t.trim().toLowerCase())),
  budgetEnforce: variable("BUDGET_ENFORCE", "off", (t) => oneOf("off", "openrouter")(t.trim().toLowerCase())),
  invoiceLines: variable("INVOICE_LINES", "model", (t) => oneOf(...INVOICE_LINE_MODES)(t.trim().toLowerCase()).pipe(
    Either.mapLeft(() => `expected ${INVOICE_LINE_MODES.join(" or ")}, got ${t}`)
  ))
})

/** The first problem of a `ConfigError`, as `NAME: why` on one line. */
export const firstProblem = (e: ConfigError.ConfigError): string => {
  switch (e._op) {
    case "And":
    case "Or":
      return firstProblem(e.left)
    case "InvalidData":
    case "MissingData":
    case "SourceUnavailable":
    case "Unsupported":
      return `${e.path.join(".")}: ${e.message.split("\n")[0]}`
  }
}

const read = Effect.gen(function*() {
  const env = yield* Effect.mapError(environment, (e) => new ConfigInvalid({ message: firstProblem(e) }))
  const { dataDir } = env
  yield* Effect.try({
    try: () => Fs.mkdirSync(dataDir, { recursive: true }),
    catch: (e) => new ConfigInvalid({ message: `DATA_DIR: cannot create ${dataDir}: ${(e as Error).message}` })
  })
  const webhookSecret = Option.isSome(env.webhookSecrets) ? undefined : yield* keptOrGenerated(dataDir, "webhook-secret")
  const adminToken = Option.isSome(env.adminTokens) ? undefined : yield* keptOrGenerated(dataDir, "admin-token")
  if (Option.isSome(env.alertWebhookUrl) && Option.isNone(env.alertWebhookSecret)) {
    return yield* new ConfigInvalid({ message: "ALERT_WEBHOOK_SECRET: required with ALERT_WEBHOOK_URL (it signs each alert)" })
  }
  if (Option.isSome(env.smtpUrl) && Option.isNone(env.alertEmailTo)) {
    return yield* new ConfigInvalid({ message: "ALERT_EMAIL_TO: required with SMTP_URL (who receives the alerts)" })
  }
  if (env.budgetEnforce === "openrouter" && Option.isNone(env.openRouterManagementKey)) {
    return yield* new ConfigInvalid({ message: "BUDGET_ENFORCE: openrouter needs OPENROUTER_MANAGEMENT_KEY (it sets the keys' limits)" })
  }
  yield* announceGenerated({ dataDir, host: env.host, port: env.port, webhookSecret, adminToken })
  const settings: AppSettings = {
    port: env.port,
    host: env.host,
    clientOrgId: env.clientOrgId,
    webhookSecrets: Option.getOrElse(env.webhookSecrets, () => [webhookSecret!.secret]),
    apiKeyNames: Option.getOrUndefined(env.apiKeyNames),
    openRouterExternalUser: Option.getOrUndefined(env.externalUser),
    openRouterApiKey: Option.getOrUndefined(env.openRouterApiKey),
    influx: Option.isSome(env.influxUrl)
      ? {
        url: env.influxUrl.value.replace(/\/+$/, ""),
        token: Option.getOrUndefined(env.influxToken),
        org: Option.getOrUndefined(env.influxOrg),
        bucket: env.influxBucket,
        api: env.influxApi,
        measurement: env.measurement
      }
      : undefined,
    nbpServiceUrl: Option.getOrUndefined(env.nbpServiceUrl),
    nbpApiUrl: env.nbpApiUrl,
    dataDir,
    summaryDbPath: Option.getOrElse(env.summaryDb, () => Path.join(dataDir, "usage_summary.db")),
    ledgerDbPath: Option.getOrElse(env.ledgerDb, () => Path.join(dataDir, "usage_ledger.db")),
    openWebUiDatabaseUrl: Option.getOrUndefined(env.databaseUrl),
    dailyBatchEnabled: env.batchEnabled,
    dailyBatchTime: env.batchTime,
    dailyBatchTimeZone: env.batchTz,
    markup: env.markup,
    markupEffectiveFrom: Option.getOrUndefined(env.markupEffectiveFrom),
    exchangeRateRule: env.rule,
    adminTokens: Option.getOrElse(env.adminTokens, () => [adminToken!.secret]),
    maxBodyBytes: env.maxBody,
    ledgerSync: env.ledgerSync,
    ledgerQueueLimit: env.ledgerQueueLimit,
    openRouter: {
      apiUrl: env.openRouterApiUrl.replace(/\/+$/, ""),
      managementKey: Option.getOrUndefined(env.openRouterManagementKey),
      apiKeyHashes: Option.getOrUndefined(env.openRouterApiKeyHashes),
      workspaceId: Option.getOrUndefined(env.openRouterWorkspaceId)
    },
    invoice: {
      resellerName: Option.getOrUndefined(env.resellerName),
      resellerNip: Option.getOrUndefined(env.resellerNip),
      resellerAddress: Option.getOrUndefined(env.resellerAddress),
      clientName: Option.getOrElse(env.clientName, () => env.clientOrgId),
      clientNip: Option.getOrUndefined(env.clientNip),
      clientAddress: Option.getOrUndefined(env.clientAddress),
      numberPattern: env.invoiceNumberPattern,
      vatRate: env.invoiceVatRate,
      lines: env.invoiceLines
    },
    alerts: {
      webhookUrl: Option.getOrUndefined(env.alertWebhookUrl),
      webhookSecret: Option.getOrUndefined(env.alertWebhookSecret),
      smtpUrl: Option.getOrUndefined(env.smtpUrl),
      emailTo: Option.getOrElse(env.alertEmailTo, () => []),
      emailFrom: env.alertEmailFrom,
      language: env.alertLanguage,
      enforce: env.budgetEnforce === "openrouter"
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

/**
 * For unit tests: settings as the defaults give them (no environment read, no folder made, no
 * secret generated), with `overrides` over them.
 */
export const testSettings = (overrides: Partial<AppSettings> = {}): AppSettings => ({
  port: 0,
  host: "127.0.0.1",
  clientOrgId: "default",
  webhookSecrets: [Redacted.make("test-webhook-secret-0123456789")],
  apiKeyNames: undefined,
  openRouterExternalUser: undefined,
  openRouterApiKey: undefined,
  influx: undefined,
  nbpServiceUrl: undefined,
  nbpApiUrl: "http://127.0.0.1:9/api/exchangerates/rates/a/usd/",
  dataDir: "/nonexistent/mai-usage-test",
  summaryDbPath: "/nonexistent/mai-usage-test/usage_summary.db",
  ledgerDbPath: "/nonexistent/mai-usage-test/usage_ledger.db",
  openWebUiDatabaseUrl: undefined,
  dailyBatchEnabled: false,
  dailyBatchTime: { hour: 13, minute: 0 },
  dailyBatchTimeZone: "Europe/Warsaw",
  markup: BigDecimal.unsafeFromString("1.3"),
  markupEffectiveFrom: undefined,
  exchangeRateRule: "previous-business-day",
  adminTokens: [Redacted.make("test-admin-token-0123456789")],
  maxBodyBytes: 33_554_432,
  ledgerSync: "full",
  ledgerQueueLimit: 1024,
  openRouter: { apiUrl: "http://127.0.0.1:9/api/v1", managementKey: undefined, apiKeyHashes: undefined, workspaceId: undefined },
  invoice: {
    resellerName: undefined,
    resellerNip: undefined,
    resellerAddress: undefined,
    clientName: overrides.clientOrgId ?? "default",
    clientNip: undefined,
    clientAddress: undefined,
    numberPattern: DEFAULT_NUMBER_PATTERN,
    vatRate: "23",
    lines: "model"
  },
  alerts: { webhookUrl: undefined, webhookSecret: undefined, smtpUrl: undefined, emailTo: [], emailFrom: "mai-usage@localhost", language: "pl", enforce: false },
  ...overrides
})

/** `AppConfig` as `testSettings(overrides)`: a fake for unit tests. */
export const testLayer = (overrides: Partial<AppSettings> = {}) => Layer.succeed(AppConfig, testSettings(overrides))
