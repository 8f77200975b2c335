/**
 * This client's Broadcast destination in OpenRouter: set up (`connect`) and checked (`check`).
 *
 * A destination "points at this client" when it is a webhook whose URL is the one given (or the
 * one the last `connect` recorded), or whose name is this client's (`mai-usage <CLIENT_ORG_ID>`).
 * The check flags, each by its own name, what loses billing data: disabled, cost metadata off
 * (`broadcast_generation_cost`, OpenRouter's default), filter rules, a sampling rate below 1, a key
 * filter that leaves out one of the client's keys, an Authorization header without this client's
 * webhook secret, a method other than POST; and, as a warning, privacy mode off (prompts and
 * completions would be sent). Destinations are those of OPENROUTER_WORKSPACE_ID (else the default
 * workspace), where OpenRouter allows five per type.
 *
 * OpenRouter masks secrets in the configs it returns (`Bear...wxyz`): a masked header is compared
 * on the characters it shows, a plain one exactly.
 */
import { Effect, Redacted } from "effect"
import { AppConfig } from "../platform/Config.js"
import { type Destination, type DestinationBody, OpenRouterApi, OpenRouterError, webhookConfig } from "./OpenRouterApi.js"
import { OpenRouterRepo } from "./OpenRouterRepo.js"
import { Reconciler } from "./Reconciler.js"

/** OpenRouter allows at most this many destinations of one type. */
export const MAX_PER_TYPE = 5

export type FindingCode =
  | "disabled"
  | "cost-metadata-off"
  | "filter-rules"
  | "sampling"
  | "key-filter"
  | "wrong-secret"
  | "privacy-off"
  | "method"

export interface Finding {
  readonly destination: string
  readonly id: string
  readonly code: FindingCode
  /** errors lose billing data; warnings do not */
  readonly severity: "error" | "warning"
  readonly message: string
}

export interface DestinationSummary {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly enabled: boolean
  readonly samplingRate: number
  readonly privacyMode: boolean
  readonly apiKeyHashes: ReadonlyArray<string> | null
}

export interface CheckReport {
  readonly checkedAt: string
  readonly destinations: ReadonlyArray<DestinationSummary>
  readonly findings: ReadonlyArray<Finding>
  /** webhook destinations of the workspace, of at most MAX_PER_TYPE */
  readonly webhooksUsed: number
  /** problems not tied to one destination (none points here; several do) */
  readonly problems: ReadonlyArray<string>
  /** no error finding and no problem */
  readonly ok: boolean
}

const STATE_DESTINATION = "destination"

export const destinationName = (clientOrgId: string) => `mai-usage ${clientOrgId}`

const normalUrl = (u: string) => {
  try {
    const x = new URL(u)
    return `${x.protocol}//${x.host}${x.pathname.replace(/\/+$/, "")}${x.search}`
  } catch {
    return u
  }
}

/** Whether a (possibly masked, `abcd...wxyz`) header value is `Bearer <one of the secrets>`. */
export const carriesSecret = (value: string | undefined, secrets: ReadonlyArray<Redacted.Redacted<string>>): boolean => {
  if (value === undefined) return false
  const masked = /^(.*?)\.{3,}(.*)$/.exec(value)
  return secrets.some((s) => {
    const expected = `Bearer ${Redacted.value(s)}`
    if (masked === null) return value === expected
    const [, prefix, suffix] = masked
    return prefix.length + suffix.length > 0 && expected.length >= prefix.length + suffix.length &&
      expected.startsWith(prefix) && expected.endsWith(suffix)
  })
}

const headerOf = (headers: Record<string, string> | null | undefined, name: string) => {
  if (headers === null || headers === undefined) return undefined
  const k = Object.keys(headers).find((h) => h.toLowerCase() === name)
  return k === undefined ? undefined : headers[k]
}

/** Whether a destination's `filter_rules` can drop anything: null, absent, disabled or without groups cannot. */
const filters = (rules: unknown): boolean => {
  if (rules === null || rules === undefined) return false
  if (typeof rules !== "object") return true
  const r = rules as { enabled?: unknown; groups?: unknown }
  if (r.enabled === false) return false
  return !(Array.isArray(r.groups) && r.groups.length === 0)
}

export const judge = (
  d: Destination,
  hashes: ReadonlyArray<string>,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const at = (code: FindingCode, severity: "error" | "warning", message: string) =>
    out.push({ destination: d.name, id: d.id, code, severity, message: `destination "${d.name}": ${message}` })
  const cfg = webhookConfig(d)
  if (!d.enabled) at("disabled", "error", "disabled: OpenRouter sends nothing to it; enable it (or run `mai-usage openrouter connect`)")
  if (d.broadcast_generation_cost !== true) {
    at("cost-metadata-off", "error", "cost metadata is off (broadcast_generation_cost): spans arrive without their cost, which waits as pending until filled from OpenRouter; turn it on (`mai-usage openrouter connect`)")
  }
  if (filters(d.filter_rules)) {
    at("filter-rules", "error", "it has filter rules: the requests they exclude are never reported nor billed; remove them (`mai-usage openrouter connect`)")
  }
  if (d.sampling_rate < 1) {
    at("sampling", "error", `sampling rate ${d.sampling_rate}: only that share of requests is reported, the rest is never billed; set it to 1`)
  }
  const left = d.api_key_hashes == null ? [] : hashes.filter((h) => !d.api_key_hashes!.includes(h))
  if (left.length > 0) {
    at("key-filter", "error", `its API key filter leaves out ${left.length === hashes.length ? "this client's key" : `${left.length} of this client's ${hashes.length} keys`}: their requests are not reported; add them or clear the filter`)
  }
  if (!carriesSecret(headerOf(cfg?.headers, "authorization"), secrets)) {
    at("wrong-secret", "error", "its Authorization header is not `Bearer <this client's OPENROUTER_WEBHOOK_SECRET>`: deliveries are refused with 401 and lost; run `mai-usage openrouter connect`")
  }
  if (!d.privacy_mode) at("privacy-off", "warning", "privacy mode is off: prompts and completions are sent too (only usage is kept); turn privacy mode on")
  if (cfg?.method != null && cfg.method.toUpperCase() !== "POST") at("method", "error", `method ${cfg.method}: the webhook accepts POST only`)
  return out
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const api = yield* OpenRouterApi
  const repo = yield* OpenRouterRepo
  const reconciler = yield* Reconciler
  const name = destinationName(config.clientOrgId)

  const recorded = Effect.map(
    repo.getState(STATE_DESTINATION).pipe(Effect.orElseSucceed(() => undefined)),
    (v) => v as { id?: string; url?: string } | undefined
  )

  const pointingHere = (all: ReadonlyArray<Destination>, url: string | undefined, id: string | undefined) =>
    all.filter((d) => {
      if (d.type !== "webhook") return false
      const cfg = webhookConfig(d)
      return d.id === id || d.name === name || (url !== undefined && cfg !== undefined && normalUrl(cfg.url) === normalUrl(url))
    })

  const check = (url?: string) =>
    Effect.gen(function*() {
      const hashes = yield* reconciler.keyHashes
      const mine = yield* recorded
      const target = url ?? mine?.url
      const all = yield* api.listDestinations
      const here = pointingHere(all, target, mine?.id)
      const webhooksUsed = all.filter((d) => d.type === "webhook").length
      const findings = here.flatMap((d) => judge(d, hashes, config.webhookSecrets))
      const problems: Array<string> = []
      if (here.length === 0) {
        problems.push(
          `no Broadcast destination points at this client${target === undefined ? "" : ` (${target})`}: usage is not reported; ` +
            "run `mai-usage openrouter connect --url <public webhook URL>`"
        )
      }
      if (here.length > 1) {
        problems.push(`${here.length} destinations point at this client: each request would be delivered ${here.length} times (duplicates are ignored, but keep one)`)
      }
      const report: CheckReport = {
        checkedAt: new Date().toISOString(),
        destinations: here.map((d) => ({
          id: d.id,
          name: d.name,
          url: webhookConfig(d)?.url ?? "",
          enabled: d.enabled,
          samplingRate: d.sampling_rate,
          privacyMode: d.privacy_mode,
          apiKeyHashes: d.api_key_hashes ?? null
        })),
        findings,
        webhooksUsed,
        problems,
        ok: problems.length === 0 && findings.every((f) => f.severity !== "error")
      }
      return report
    })

  const connect = (url: string) =>
    Effect.gen(function*() {
      const hashes = yield* reconciler.keyHashes
      const mine = yield* recorded
      const all = yield* api.listDestinations
      const here = pointingHere(all, url, mine?.id)
      const body: DestinationBody = {
        name,
        enabled: true,
        privacy_mode: true,
        sampling_rate: 1,
        api_key_hashes: hashes,
        broadcast_generation_cost: true,
        filter_rules: null,
        config: { url, method: "POST", headers: { Authorization: `Bearer ${Redacted.value(config.webhookSecrets[0])}` } }
      }
      let action: "created" | "updated"
      let destination: Destination
      if (here.length > 0) {
        // The recorded one first, then one with our URL: update it in place, never add a second.
        const pick = here.find((d) => d.id === mine?.id) ??
          here.find((d) => normalUrl(webhookConfig(d)?.url ?? "") === normalUrl(url)) ?? here[0]
        destination = yield* api.updateDestination(pick.id, body)
        action = "updated"
      } else {
        const used = all.filter((d) => d.type === "webhook").length
        if (used >= MAX_PER_TYPE) {
          return yield* new OpenRouterError({
            reason: "rejected",
            status: null,
            message: `all ${MAX_PER_TYPE} webhook destinations of the workspace${config.openRouter.workspaceId === undefined ? "" : ` ${config.openRouter.workspaceId}`} ` +
              `are in use (OpenRouter allows ${MAX_PER_TYPE} per type and workspace); give this client its own workspace ` +
              "(OPENROUTER_WORKSPACE_ID, docs/openrouter.md) or delete one in OpenRouter → Settings → Broadcast, then run connect again"
          })
        }
        destination = yield* api.createDestination(body)
        action = "created"
      }
      yield* repo.setState(STATE_DESTINATION, { id: destination.id, url })
      return { action, destination, others: here.filter((d) => d.id !== destination.id).map((d) => d.name) }
    })

  return { check, connect, name }
})

/** What `serve` keeps of the last check, for /ready and the logs. */
export interface CheckState {
  readonly at: string
  readonly report: CheckReport | null
  readonly error: string | null
}
