import { Schema } from "effect"
import { INVOICE_LINE_MODES, NUMBER_PATTERN_RULE, numberPatternProblem, VAT_RATES } from "../domain/Invoice.js"
import { isValidNip, NIP_RULE } from "../domain/Nip.js"
import { isDay } from "../domain/WarsawDay.js"

/**
 * The settings of `clients.json` that reach a client container as environment variables: ONE
 * table, one row per field. A row says where the field is (`scope`: in each client, or at the
 * top of the file for every client of the server), which variable it becomes, how its JSON value
 * is checked and turned into the variable's text (`schema`), whether it is a secret, and the rule
 * a refusal states. Everything else follows from the row: the field is accepted in
 * `clients.json` (ClientsFile.ts), refused with `<where> <rule>`, rendered into each client's
 * `environment:` at the template's `# SETTINGS` line (renderCompose.ts) and, when absent, left out
 * so the container uses its default. Adding a setting = adding a row here (and a line in the
 * clients.json table of docs/operations.md; test/deploy checks both docs and example name it).
 *
 * Secrets are never printed, must differ from every other secret of the file, and may not still
 * be the example's `REPLACE-…` placeholder; `secret.ifLeftOut` finishes that refusal ("put the real
 * secret there, or leave the field out …").
 *
 * The template may also place a setting itself through its placeholder, `{{VARIABLE}}` or, where
 * the deployment template had its own name for it, `placeholder` (`{{WEBHOOK_SECRET}}`); the
 * `# SETTINGS` line then skips it in that region.
 */

// ---------------------------------------------------------------------------------------------
// Value schemas: each decodes a JSON value to the text of one environment variable.

/**
 * One printable line: no control characters (C0, DEL, C1), no Unicode line or paragraph
 * separator (YAML reads U+0085, U+2028, U+2029 as line breaks), no BOM or noncharacter
 * (docker-compose's YAML reader refuses them), no lone surrogate (not UTF-8).
 */
export const Text = Schema.String.pipe(
  Schema.pattern(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]+$/),
  Schema.filter((s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s))
)

/** A line as printed on an invoice: Text that neither starts nor ends with a space. */
const Line = Text.pipe(Schema.filter((s) => s.trim() === s))

/** A secret: printable ASCII, no spaces, no commas (commas separate rotated secrets). */
export const Token = Schema.String.pipe(Schema.pattern(/^[\x21-\x2b\x2d-\x7e]+$/))

/** A credential we authenticate against: long enough not to be guessed. */
const StrongToken = Token.pipe(Schema.minLength(16))

/** OPENROUTER_WEBHOOK_SECRET and ADMIN_TOKEN: one secret, or several comma-separated during a rotation. */
const SecretList = Schema.String.pipe(
  Schema.filter((s) => s.split(",").every((part) => Schema.is(StrongToken)(part)))
)

/** Markup multiplier, as a JSON number or a decimal string; rendered as the decimal text. */
const Markup = Schema.transform(
  Schema.Union(Schema.Number, Schema.String).pipe(
    Schema.filter((v) => {
      const text = String(v)
      return /^(0|[1-9]\d*)(\.\d+)?$/.test(text) && /[1-9]/.test(text)
    })
  ),
  Schema.String,
  { strict: true, decode: (v) => String(v), encode: (s) => s }
)

/** A non-empty list, rendered comma-separated (so no item may hold a comma). */
const commaList = (item: Schema.Schema<string>) =>
  Schema.transform(Schema.Array(item).pipe(Schema.minItems(1)), Schema.String, {
    strict: true,
    decode: (items) => items.join(","),
    encode: (text) => text.split(",")
  })

const KeyName = Text.pipe(Schema.pattern(/^[^,]+$/))

/** An OpenRouter key hash as its keys API reports it: hex (SHA-256: 64 digits; 16–128 accepted, as the app does). */
const KEY_HASH = "[0-9A-Fa-f]{16,128}"
const KeyHashes = Schema.Union(
  commaList(Schema.String.pipe(Schema.pattern(new RegExp(`^${KEY_HASH}$`)))),
  Schema.String.pipe(Schema.pattern(new RegExp(`^${KEY_HASH}(,${KEY_HASH})*$`)))
)

const WorkspaceId = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,128}$/))

/** YYYY-MM-DD of a real calendar day (the app's one rule, src/domain/WarsawDay.ts). */
const CalendarDay = Schema.String.pipe(Schema.filter(isDay))

const Nip = Schema.String.pipe(Schema.filter(isValidNip))

/** INVOICE_NUMBER_PATTERN: the app's rule (src/domain/Invoice.ts). */
const NumberPattern = Line.pipe(Schema.filter((s) => numberPatternProblem(s) === undefined))

/** INVOICE_VAT_RATE, as a JSON number or a string: 23, 8, 5 or 0. */
const VatRate = Schema.transform(
  Schema.Union(Schema.Number, Schema.String).pipe(Schema.filter((v) => (VAT_RATES as ReadonlyArray<string>).includes(String(v)))),
  Schema.String,
  { strict: true, decode: (v) => String(v), encode: (s) => s }
)

/** An http(s) URL (the alert webhook). */
const HttpUrl = Text.pipe(Schema.filter((s) => {
  try {
    return ["http:", "https:"].includes(new URL(s).protocol)
  } catch {
    return false
  }
}))

/** SMTP_URL: smtp:// or smtps://, possibly with the user and password (so a secret). */
const SmtpUrl = Token.pipe(Schema.filter((s) => {
  try {
    return ["smtp:", "smtps:"].includes(new URL(s).protocol)
  } catch {
    return false
  }
}))

const Email = Schema.String.pipe(Schema.pattern(/^[^\s@,<>]+@[^\s@,<>]+$/))

const InvoiceLines = Schema.String.pipe(Schema.filter((s) => (INVOICE_LINE_MODES as ReadonlyArray<string>).includes(s)))

// ---------------------------------------------------------------------------------------------
// The table.

export interface Setting {
  /** the key in clients.json: in each client (`client`) or at the top, for every client (`server`) */
  readonly scope: "client" | "server"
  readonly field: string
  /** the environment variable of the client container */
  readonly variable: string
  /** JSON value → the variable's text; what it refuses is refused with `rule` */
  readonly schema: Schema.Schema<string, any>
  /** secrets: what leaving the field out does, for the refusal of a `REPLACE-…` placeholder */
  readonly secret?: { readonly ifLeftOut: string }
  /** the refusal: `<where> <rule>`, never quoting the value */
  readonly rule: string
  /** the template's name for the value, when not the variable's */
  readonly placeholder?: string
}

const ONE_LINE = "must be one line of text without line breaks or control characters, not starting or ending with a space"
const GENERATED = { ifLeftOut: "to have the container generate its own" }

// One row per setting; keep each on one line.
export const SETTINGS = [
  { scope: "client", field: "openrouterApiKey", variable: "OPENROUTER_API_KEY", placeholder: "CLIENT_OPENROUTER_KEY", schema: Token, secret: { ifLeftOut: "(then there is no key drift check)" }, rule: "must be printable ASCII without spaces or commas" },
  { scope: "client", field: "webhookSecret", variable: "OPENROUTER_WEBHOOK_SECRET", placeholder: "WEBHOOK_SECRET", schema: SecretList, secret: GENERATED, rule: "must be one secret of at least 16 printable ASCII characters without spaces, or several such secrets separated by commas" },
  { scope: "client", field: "adminToken", variable: "ADMIN_TOKEN", schema: SecretList, secret: GENERATED, rule: "must be one token of at least 16 printable ASCII characters without spaces, or several such tokens separated by commas" },
  { scope: "client", field: "openrouterManagementKey", variable: "OPENROUTER_MANAGEMENT_KEY", schema: Token, secret: { ifLeftOut: "(then the reconciliation and the Broadcast destination check are off)" }, rule: "must be printable ASCII without spaces or commas" },
  { scope: "client", field: "openrouterApiKeyHashes", variable: "OPENROUTER_API_KEY_HASH", schema: KeyHashes, rule: "must be the client's key hashes as OpenRouter's keys API reports them (16 to 128 hex digits each, SHA-256: 64): a non-empty list, or one string with commas between hashes" },
  { scope: "client", field: "openrouterWorkspaceId", variable: "OPENROUTER_WORKSPACE_ID", schema: WorkspaceId, rule: "must be an OpenRouter workspace id: 1 to 128 letters, digits, '-' or '_'" },
  { scope: "client", field: "apiKeyNames", variable: "OPENROUTER_API_KEY_NAMES", schema: commaList(KeyName), rule: "must be a non-empty list of non-empty key names without commas" },
  { scope: "client", field: "markup", variable: "USAGE_MARKUP_MULTIPLIER", schema: Markup, rule: "must be a positive decimal number such as 1.3" },
  { scope: "client", field: "markupEffectiveFrom", variable: "USAGE_MARKUP_EFFECTIVE_FROM", schema: CalendarDay, rule: "must be a calendar day YYYY-MM-DD such as \"2025-11-01\" (a real day: not 2025-02-30)" },
  { scope: "client", field: "clientName", variable: "CLIENT_NAME", schema: Line, rule: `${ONE_LINE}: the client's legal name` },
  { scope: "client", field: "clientNip", variable: "CLIENT_NIP", schema: Nip, rule: `must be ${NIP_RULE}` },
  { scope: "client", field: "clientAddress", variable: "CLIENT_ADDRESS", schema: Line, rule: `${ONE_LINE}: write the address on one line, e.g. "ul. Prosta 1, 00-001 Warszawa"` },
  { scope: "server", field: "resellerName", variable: "RESELLER_NAME", schema: Line, rule: `${ONE_LINE}: the reseller's legal name` },
  { scope: "server", field: "resellerNip", variable: "RESELLER_NIP", schema: Nip, rule: `must be ${NIP_RULE}` },
  { scope: "server", field: "resellerAddress", variable: "RESELLER_ADDRESS", schema: Line, rule: `${ONE_LINE}: write the address on one line, e.g. "ul. Prosta 1, 00-001 Warszawa"` },
  { scope: "server", field: "invoiceNumberPattern", variable: "INVOICE_NUMBER_PATTERN", schema: NumberPattern, rule: `must be ${NUMBER_PATTERN_RULE}, e.g. "FV/{YYYY}/{MM}/{CLIENT}"` },
  { scope: "server", field: "invoiceVatRate", variable: "INVOICE_VAT_RATE", schema: VatRate, rule: "must be a VAT rate in per cent the invoice draft offers: 23, 8, 5 or 0, as a number or a string" },
  { scope: "client", field: "invoiceLines", variable: "INVOICE_LINES", schema: InvoiceLines, rule: "must be \"model\" (one invoice line per model) or \"month\" (one line for the month)" },
  { scope: "client", field: "alertWebhookUrl", variable: "ALERT_WEBHOOK_URL", schema: HttpUrl, rule: "must be an http(s) URL: where budget alerts are posted (e.g. a Slack incoming webhook)" },
  { scope: "client", field: "alertWebhookSecret", variable: "ALERT_WEBHOOK_SECRET", schema: StrongToken, secret: { ifLeftOut: "(then leave alertWebhookUrl out too: the app needs the secret to sign the webhook)" }, rule: "must be one secret of at least 16 printable ASCII characters without spaces or commas" },
  { scope: "client", field: "alertEmailTo", variable: "ALERT_EMAIL_TO", schema: commaList(Email), rule: "must be a non-empty list of e-mail addresses that receive the client's budget alerts" },
  { scope: "client", field: "alertLanguage", variable: "ALERT_LANGUAGE", schema: Schema.String.pipe(Schema.pattern(/^(pl|en)$/)), rule: "must be \"pl\" (default) or \"en\"" },
  { scope: "client", field: "budgetEnforce", variable: "BUDGET_ENFORCE", schema: Schema.String.pipe(Schema.pattern(/^(off|openrouter)$/)), rule: "must be \"off\" (default) or \"openrouter\" (the client's budget becomes a limit on its OpenRouter keys; needs openrouterManagementKey)" },
  { scope: "server", field: "smtpUrl", variable: "SMTP_URL", schema: SmtpUrl, secret: { ifLeftOut: "(then no alert goes by e-mail)" }, rule: "must be smtp://host:port or smtps://user:password@host:port (the password URL-encoded), without spaces or commas" },
  { scope: "server", field: "alertEmailFrom", variable: "ALERT_EMAIL_FROM", schema: Email, rule: "must be one e-mail address: the sender of budget alerts" }
] as const satisfies ReadonlyArray<Setting>

/** The clients.json keys of one scope's settings, e.g. "clientNip" | "markup" | … */
export type SettingField<Scope extends Setting["scope"]> = Extract<(typeof SETTINGS)[number], { readonly scope: Scope }>["field"]

/** The template placeholder of a setting. */
export const placeholderOf = (setting: Setting): string => setting.placeholder ?? setting.variable

export const settingsOf = (scope: Setting["scope"]): ReadonlyArray<Setting> =>
  SETTINGS.filter((s: Setting) => s.scope === scope)

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A scope's settings as fields of a Schema.Struct, each optional. */
export const settingFields = <Scope extends Setting["scope"]>(scope: Scope) =>
  Object.fromEntries(settingsOf(scope).map((s) => [s.field, optional(s.schema)])) as {
    readonly [F in SettingField<Scope>]: Schema.optionalWith<Schema.Schema<string, any>, { exact: true }>
  }
