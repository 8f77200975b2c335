import { ORG_ID_PATTERN, ORG_ID_RULE } from "../domain/OrgId.js"
import { Either, ParseResult, Schema } from "effect"

/**
 * `clients.json`: the clients of one server, input of `mai-usage compose render`.
 * Documented in docs/operations.md, example in docs/clients.example.json.
 *
 * Secrets (webhookSecret, adminToken, openrouterApiKey, influxdb.token) are optional:
 * an absent one is left out of the compose file and the container generates it on
 * first start, keeps it in its data volume and prints it once in its log.
 * Rendering is therefore deterministic, and re-rendering never rotates a secret.
 */

/** A compose service name: what `docker compose` accepts as a service key. */
const ClientId = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9_-]{0,62}$/))

/** Printable text without control characters (one YAML line, one env value). */
const Text = Schema.String.pipe(Schema.pattern(/^[^\u0000-\u001f\u007f]+$/))

/** A secret: printable ASCII, no spaces, no commas (commas separate rotated secrets). */
const Token = Schema.String.pipe(Schema.pattern(/^[\x21-\x2b\x2d-\x7e]+$/))

/** A credential we authenticate against: long enough not to be guessed. */
const StrongToken = Token.pipe(Schema.minLength(16))

/** OPENROUTER_WEBHOOK_SECRET and ADMIN_TOKEN: one secret, or several comma-separated during a rotation. */
const SecretList = Schema.String.pipe(
  Schema.filter((s) => s.split(",").every((part) => Schema.is(StrongToken)(part)))
)

const Port = Schema.Int.pipe(Schema.between(1, 65535))

/** Markup multiplier, as a JSON number or a decimal string; kept as the decimal text. */
const Markup = Schema.Union(Schema.Number, Schema.String).pipe(
  Schema.filter((v) => {
    const text = String(v)
    return /^(0|[1-9]\d*)(\.\d+)?$/.test(text) && /[1-9]/.test(text)
  })
)

const HttpUrl = Schema.String.pipe(
  Schema.filter((s) => {
    if (!Schema.is(Text)(s)) return false
    try {
      const url = new URL(s)
      return url.protocol === "http:" || url.protocol === "https:"
    } catch {
      return false
    }
  })
)

const ImageName = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9._/:-]*[a-z0-9]$/))
const ImageTag = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/))
const Ipv4 = Schema.String.pipe(
  Schema.pattern(/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/)
)

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

export const ClientSpec = Schema.Struct({
  id: ClientId,
  orgId: Schema.String.pipe(Schema.pattern(ORG_ID_PATTERN)),
  port: Port,
  openrouterApiKey: optional(Token),
  webhookSecret: optional(SecretList),
  adminToken: optional(SecretList),
  apiKeyNames: optional(Schema.Array(Text.pipe(Schema.pattern(/^[^,]+$/)))),
  markup: optional(Markup)
})
export type ClientSpec = typeof ClientSpec.Type

export const InfluxSettings = Schema.Struct({
  url: HttpUrl,
  token: Token,
  org: Text,
  bucket: optional(Text)
})
export type InfluxSettings = typeof InfluxSettings.Type

export const ClientsFile = Schema.Struct({
  imageVersion: ImageTag,
  appImage: optional(ImageName),
  nbpImage: optional(ImageName),
  bindAddress: optional(Ipv4),
  influxdb: optional(InfluxSettings),
  clients: Schema.Array(ClientSpec)
})
export type ClientsFile = typeof ClientsFile.Type

/**
 * What each field must be, by field name. Refusals are phrased from this table and
 * the path only, never from the offending value, so a misplaced secret cannot end
 * up in an error message or a log.
 */
const fieldRules: Record<string, string> = {
  imageVersion: "must be an image tag such as \"1.4.0\"",
  appImage: "must be an image name such as \"registry.example.com/mai-usage\"",
  nbpImage: "must be an image name such as \"registry.example.com/mai-nbp-service\"",
  bindAddress: "must be an IPv4 address such as \"127.0.0.1\" or \"0.0.0.0\"",
  influxdb: "must be an object with url, token and org",
  url: "must be an http:// or https:// URL",
  token: "must be printable ASCII without spaces or commas",
  org: "must be a non-empty line of text",
  bucket: "must be a non-empty line of text",
  clients: "must be a list of clients",
  id:
    "must be a valid compose service name: lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters",
  orgId: `must be ${ORG_ID_RULE} (CLIENT_ORG_ID)`,
  port: "must be an integer port between 1 and 65535",
  openrouterApiKey: "must be printable ASCII without spaces or commas",
  webhookSecret:
    "must be one secret of at least 16 printable ASCII characters without spaces, or several such secrets separated by commas",
  adminToken:
    "must be one token of at least 16 printable ASCII characters without spaces, or several such tokens separated by commas",
  apiKeyNames: "must be a list of non-empty key names without commas",
  markup: "must be a positive decimal number such as 1.3"
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("")

const describeIssue = (issue: ParseResult.ArrayFormatterIssue): string => {
  const where = issue.path.length === 0 ? "the file" : formatPath(issue.path)
  if (issue._tag === "Missing") return `${where} is missing`
  // "is unexpected, expected: "id" | …" names keys only, never values.
  if (issue._tag === "Unexpected") return `${where} is not a known field (${issue.message.replace(/^is unexpected, /, "")})`
  const named = [...issue.path].reverse().find((key): key is string => typeof key === "string")
  if (issue.path.length === 0) return "the file must be a JSON object with imageVersion and clients"
  const last = issue.path[issue.path.length - 1]
  if (typeof last === "number") {
    return named === "clients" ? `${where} must be an object with id, orgId and port` : `${where} has the wrong type`
  }
  return `${where} ${fieldRules[named ?? ""] ?? "has the wrong type"}`
}

/** Where a JSON.parse error points, as "line L, column C" (V8 messages quote the text itself, so they are not reused). */
const jsonErrorPosition = (text: string, error: unknown): string => {
  const match = error instanceof Error ? /position (\d+)/.exec(error.message) : null
  if (match === null) return ""
  const offset = Number(match[1])
  const before = text.slice(0, offset).split("\n")
  return ` (line ${before.length}, column ${before[before.length - 1].length + 1})`
}

const secretUses = (file: ClientsFile) =>
  file.clients.flatMap((client, i) => [
    ...(client.webhookSecret?.split(",") ?? []).map((value) => ({ value, where: `clients[${i}].webhookSecret` })),
    ...(client.adminToken === undefined ? [] : [{ value: client.adminToken, where: `clients[${i}].adminToken` }])
  ])

/** Every secret of the file, with where it is and what else may be done than filling it in. */
const allSecretFields = (file: ClientsFile) => [
  ...(file.influxdb === undefined ? [] : [{ value: file.influxdb.token, where: "influxdb.token", optional: false }]),
  ...file.clients.flatMap((client, i) => [
    ...(client.openrouterApiKey === undefined
      ? []
      : [{ value: client.openrouterApiKey, where: `clients[${i}].openrouterApiKey`, optional: true }]),
    ...secretUses(file).filter((use) => use.where.startsWith(`clients[${i}].`)).map((use) => ({ ...use, optional: true }))
  ])
]

/**
 * The example file's secrets are `REPLACE-with-…` texts (`sk-or-v1-REPLACE`); rendered as they
 * are, every container would share one published secret. No real token contains the word.
 */
const PLACEHOLDER_SECRET = /REPLACE/i

const placeholderSecret = (file: ClientsFile): string | undefined => {
  const found = allSecretFields(file).find((field) => PLACEHOLDER_SECRET.test(field.value))
  if (found === undefined) return undefined
  return `${found.where} is still the example's REPLACE-… placeholder: put the real secret there${
    found.optional ? ", or leave the field out to have the container generate its own" : ""
  }`
}

/** The NBP service's name: a client may not take it. */
const RESERVED_IDS = new Set(["nbp-service"])

/** Rules across clients: what makes two containers step on each other. */
const crossCheck = (file: ClientsFile): string | undefined => {
  if (file.clients.length === 0) return "clients is empty: list at least one client"
  const reserved = file.clients.findIndex((client) => RESERVED_IDS.has(client.id))
  if (reserved !== -1) {
    return `clients[${reserved}].id "${file.clients[reserved].id}" is reserved: mai-nbp-service is the server's NBP rate service`
  }
  const placeholder = placeholderSecret(file)
  if (placeholder !== undefined) return placeholder
  const syntax = templateSyntax(file)
  if (syntax !== undefined) return syntax
  const ids = new Map<string, number>()
  const ports = new Map<number, number>()
  const orgs = new Map<string, number>()
  for (const [i, client] of file.clients.entries()) {
    const sameId = ids.get(client.id)
    if (sameId !== undefined) return `clients[${i}].id "${client.id}" is used twice (also clients[${sameId}]): ids must be unique`
    ids.set(client.id, i)
    const samePort = ports.get(client.port)
    if (samePort !== undefined) {
      return `clients[${i}].port ${client.port} is used twice (also clients[${samePort}] "${file.clients[samePort].id}"): ports must be unique`
    }
    ports.set(client.port, i)
    const sameOrg = orgs.get(client.orgId)
    if (sameOrg !== undefined) {
      return `clients[${i}].orgId "${client.orgId}" is used twice (also clients[${sameOrg}]): one container per client organisation`
    }
    orgs.set(client.orgId, i)
  }
  const secrets = new Map<string, string>()
  for (const use of secretUses(file)) {
    const first = secrets.get(use.value)
    if (first !== undefined) return `${use.where} repeats the secret of ${first}: every secret must be unique`
    secrets.set(use.value, use.where)
  }
  return undefined
}

/** Every text of the file, with where it is (`clients[1].adminToken`) and whose it is. */
const textsOf = (file: ClientsFile) => {
  const out: Array<{ readonly where: string; readonly client?: string; readonly value: string }> = []
  const walk = (value: unknown, where: string, client?: string) => {
    if (typeof value === "string") out.push({ where, client, value })
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`, client))
    else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, where === "" ? k : `${where}.${k}`, client)
    }
  }
  for (const [k, v] of Object.entries(file)) if (k !== "clients") walk(v, k)
  for (const [i, client] of file.clients.entries()) walk(client, `clients[${i}]`, client.id)
  return out
}

/** `{{` or `}}` in a value would read as the template's placeholder syntax: refused, naming where, never the value. */
const templateSyntax = (file: ClientsFile): string | undefined => {
  const found = textsOf(file).find((t) => t.value.includes("{{") || t.value.includes("}}"))
  if (found === undefined) return undefined
  const whose = found.client === undefined ? "" : ` (client ${found.client})`
  return `${found.where}${whose} contains "{{" or "}}", which the compose template reserves for its placeholders`
}

/**
 * Parses and validates the text of a clients file. Left is the one-line reason
 * (without the file name) for refusing it.
 */
export const parseClientsFile = (text: string): Either.Either<ClientsFile, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Either.left(`is not valid JSON${jsonErrorPosition(text, error)}`)
  }
  return Schema.decodeUnknownEither(ClientsFile)(json, { onExcessProperty: "error", errors: "first" }).pipe(
    Either.mapLeft((error) => describeIssue(ParseResult.ArrayFormatter.formatErrorSync(error)[0])),
    Either.flatMap((file) => {
      const problem = crossCheck(file)
      return problem === undefined ? Either.right(file) : Either.left(problem)
    })
  )
}
