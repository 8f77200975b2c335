import { Either } from "effect"
import type { ClientSpec, ClientsFile } from "./ClientsFile.js"
import { placeholderOf, type Setting, SETTINGS, settingsOf } from "./settings.js"

/**
 * Renders docker-compose.template.yml for the clients of one server.
 *
 * The template stays a readable compose file: every region between a
 * `# BEGIN client` and a `# END client` line (the client service, its volume) is
 * repeated once per client; `{{NAME}}` placeholders are replaced; a line whose
 * placeholder has no value (an optional setting left out) is dropped, so the
 * container falls back to its own default. Text substitution rather than a YAML
 * round-trip keeps the template's comments and order, and needs no YAML library.
 *
 * The settings of clients.json (the table in settings.ts) need no line of their own: a
 * `# SETTINGS` line inside a client region becomes one `VARIABLE: "value"` line, at its
 * indentation, per setting that has a value and that the region does not already place through
 * its placeholder (the deployment template's historical lines such as
 * `OPENROUTER_WEBHOOK_SECRET: "{{WEBHOOK_SECRET}}"`). A template must have such a line unless
 * it places every setting itself, so no setting can be silently left out of the containers.
 */

export const BEGIN_CONSOLE = "# BEGIN console"
export const END_CONSOLE = "# END console"
export const BEGIN_CLIENT = "# BEGIN client"
export const END_CLIENT = "# END client"
export const SETTINGS_LINE = "# SETTINGS"

export const DEFAULT_APP_IMAGE = "mai-usage"
export const DEFAULT_NBP_IMAGE = "mai-nbp-service"
export const DEFAULT_CONSOLE_IMAGE = "mai-console"
/** The reseller's console's published port (`console.port` in clients.json). */
export const DEFAULT_CONSOLE_PORT = 8090
/** Published on loopback: a TLS reverse proxy on the host fronts the webhooks. */
export const DEFAULT_BIND_ADDRESS = "127.0.0.1"
export const DEFAULT_INFLUXDB_BUCKET = "mai-usage-tracking"
/** The container's default INFLUXDB_MEASUREMENT, shown in the `mai.influxdb.measurement` label. */
export const DEFAULT_INFLUXDB_MEASUREMENT = "usage_tracking"

type Values = Readonly<Record<string, string | undefined>>

/** A setting's value as decoded (its variable's text), or undefined when absent. */
const valueOf = (holder: object, setting: Setting): string | undefined =>
  (holder as Record<string, string | undefined>)[setting.field]

const settingValues = (holder: object, scope: Setting["scope"]): Values =>
  Object.fromEntries(settingsOf(scope).map((setting) => [placeholderOf(setting), valueOf(holder, setting)]))

const serverValues = (file: ClientsFile, clientsPath: string): Values => ({
  IMAGE_VERSION: file.imageVersion,
  CONSOLE_IMAGE: file.console?.image ?? DEFAULT_CONSOLE_IMAGE,
  CONSOLE_PORT: String(file.console?.port ?? DEFAULT_CONSOLE_PORT),
  CLIENTS_FILE: clientsPath,
  APP_IMAGE: file.appImage ?? DEFAULT_APP_IMAGE,
  NBP_IMAGE: file.nbpImage ?? DEFAULT_NBP_IMAGE,
  BIND_ADDRESS: file.bindAddress ?? DEFAULT_BIND_ADDRESS,
  INFLUXDB_CLOUD_URL: file.influxdb?.url,
  INFLUXDB_CLOUD_TOKEN: file.influxdb?.token,
  INFLUXDB_ORG: file.influxdb?.org,
  INFLUXDB_BUCKET: file.influxdb === undefined ? undefined : (file.influxdb.bucket ?? DEFAULT_INFLUXDB_BUCKET),
  INFLUXDB_MEASUREMENT: DEFAULT_INFLUXDB_MEASUREMENT,
  ...settingValues(file, "server")
})

const clientValues = (client: ClientSpec): Values => ({
  CLIENT_ID: client.id,
  CLIENT_ORG_ID: client.orgId,
  CLIENT_PORT: String(client.port),
  ...settingValues(client, "client")
})

const CLIENT_PLACEHOLDERS = new Set(Object.keys(clientValues({ id: "", orgId: "", port: 0 })))

/**
 * For a placeholder inside a double-quoted YAML scalar: YAML escapes, then compose's
 * own interpolation (`$` starts a variable, `$$` is a literal dollar).
 */
const escapeValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\$/g, "$$$$")

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g

const placeholdersIn = (lines: ReadonlyArray<string>): Set<string> =>
  new Set(lines.flatMap((line) => [...line.matchAll(PLACEHOLDER)].map((m) => m[1])))

/** The `# SETTINGS` line of a region: every setting with a value that the region does not place itself. */
const settingLines = (indent: string, values: Values, placed: ReadonlySet<string>): Array<string> =>
  SETTINGS.flatMap((setting: Setting) => {
    const value = values[placeholderOf(setting)]
    return placed.has(placeholderOf(setting)) || value === undefined
      ? []
      : [`${indent}${setting.variable}: "${escapeValue(value)}"`]
  })

/** One template line with its values; undefined when an absent optional value drops it. */
const substitute = (line: string, lineNo: number, values: Values, inBlock: boolean): Either.Either<string | undefined, string> => {
  let dropped = false
  for (const [, name] of line.matchAll(PLACEHOLDER)) {
    if (!(name in values)) {
      return Either.left(
        CLIENT_PLACEHOLDERS.has(name) && !inBlock
          ? `line ${lineNo}: {{${name}}} is a client placeholder outside a "${BEGIN_CLIENT}" region`
          : `line ${lineNo}: unknown placeholder {{${name}}}`
      )
    }
    if (values[name] === undefined) dropped = true
  }
  if (line.replace(PLACEHOLDER, "").includes("{{")) return Either.left(`line ${lineNo}: malformed placeholder`)
  if (dropped) return Either.right(undefined)
  return Either.right(line.replace(PLACEHOLDER, (_, name: string) => escapeValue(values[name] as string)))
}

const HEADER = [
  "# Generated by `mai-usage compose render` from docker-compose.template.yml.",
  "# Do not edit: change clients.json and render again (docs/operations.md).",
  "# Contains secrets: keep this file private (mode 0600)."
]

/**
 * The template's `# BEGIN console` … `# END console` regions (the reseller's console, service
 * mai-console): kept without their marker lines when clients.json enables the console, dropped
 * whole (client regions inside them included) when it does not.
 */
const consoleRegions = (lines: ReadonlyArray<string>, enabled: boolean): Either.Either<Array<string>, string> => {
  const out: Array<string> = []
  let inside = -1
  for (const [i, line] of lines.entries()) {
    const t = line.trim()
    if (t === BEGIN_CONSOLE) {
      if (inside !== -1) return Either.left(`line ${i + 1}: "${BEGIN_CONSOLE}" inside another (line ${inside + 1})`)
      inside = i
      out.push("")
      continue
    }
    if (t === END_CONSOLE) {
      if (inside === -1) return Either.left(`line ${i + 1}: "${END_CONSOLE}" without "${BEGIN_CONSOLE}"`)
      inside = -1
      out.push("")
      continue
    }
    // Blank lines keep the line numbers of refusals the template's own.
    out.push(inside !== -1 && !enabled ? "" : line)
  }
  if (inside !== -1) return Either.left(`line ${inside + 1}: "${BEGIN_CONSOLE}" without a matching "${END_CONSOLE}"`)
  return Either.right(out)
}

/**
 * Template text + validated clients → compose file text. Left is a one-line reason
 * why the template cannot be used; it names lines and placeholders, never values.
 * `clientsPath`: where the console service (when enabled) reads clients.json on the host.
 */
export const renderCompose = (template: string, file: ClientsFile, clientsPath = "./clients.json"): Either.Either<string, string> => {
  const regions = consoleRegions(template.replace(/\r\n/g, "\n").split("\n"), file.console?.enabled === true)
  if (Either.isLeft(regions)) return Either.left(regions.left)
  const lines = regions.right
  // The template's own header comment describes the template, not the output.
  let start = 0
  while (start < lines.length && (lines[start].trim() === "" || lines[start].trimStart().startsWith("#"))) start++

  const server = serverValues(file, clientsPath)
  const perClient = file.clients.map((client) => ({ id: client.id, values: { ...server, ...clientValues(client) } }))
  const out: Array<string> = [...HEADER, ""]
  let blocks = 0
  let settingsLines = 0
  /** Placeholders some client region uses: the settings it places on its own lines. */
  const placedSomewhere = new Set<string>()

  for (let i = start; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === END_CLIENT) return Either.left(`line ${i + 1}: "${END_CLIENT}" without "${BEGIN_CLIENT}"`)
    if (line.trim() === SETTINGS_LINE) {
      return Either.left(`line ${i + 1}: "${SETTINGS_LINE}" outside a "${BEGIN_CLIENT}" region (the settings are a client's)`)
    }
    if (line.trim() !== BEGIN_CLIENT) {
      const rendered = substitute(line, i + 1, server, false)
      if (Either.isLeft(rendered)) return Either.left(rendered.left)
      if (rendered.right !== undefined) out.push(rendered.right)
      continue
    }
    const end = lines.findIndex((l, j) => j > i && (l.trim() === END_CLIENT || l.trim() === BEGIN_CLIENT))
    if (end === -1 || lines[end].trim() !== END_CLIENT) {
      return Either.left(`line ${i + 1}: "${BEGIN_CLIENT}" without a matching "${END_CLIENT}"`)
    }
    const indent = line.slice(0, line.length - line.trimStart().length)
    const region = lines.slice(i + 1, end)
    const placed = placeholdersIn(region)
    placed.forEach((name) => placedSomewhere.add(name))
    const markers = region.flatMap((l, k) => (l.trim() === SETTINGS_LINE ? [i + 2 + k] : []))
    if (markers.length > 1) {
      return Either.left(`line ${markers[1]}: a second "${SETTINGS_LINE}" line in one client region (also line ${markers[0]})`)
    }
    settingsLines += markers.length
    for (const client of perClient) {
      out.push(`${indent}# client ${client.id}`)
      for (let j = i + 1; j < end; j++) {
        if (lines[j].trim() === SETTINGS_LINE) {
          const at = lines[j].slice(0, lines[j].length - lines[j].trimStart().length)
          out.push(...settingLines(at, client.values, placed))
          continue
        }
        const rendered = substitute(lines[j], j + 1, client.values, true)
        if (Either.isLeft(rendered)) return Either.left(rendered.left)
        if (rendered.right !== undefined) out.push(rendered.right)
      }
    }
    blocks++
    i = end
  }
  if (blocks === 0) return Either.left(`no "${BEGIN_CLIENT}" … "${END_CLIENT}" region to repeat per client`)
  const unplaced = SETTINGS.filter((setting: Setting) => !placedSomewhere.has(placeholderOf(setting)))
  if (settingsLines === 0 && unplaced.length > 0) {
    return Either.left(
      `no "${SETTINGS_LINE}" line in a client region, so ${unplaced[0].variable}${
        unplaced.length > 1 ? ` and ${unplaced.length - 1} other settings` : ""
      } of clients.json would reach no container: put one under the client service's environment:`
    )
  }
  // Lines blanked for a dropped console region, never more than one blank line in a row.
  return Either.right(out.join("\n").replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n"))
}
