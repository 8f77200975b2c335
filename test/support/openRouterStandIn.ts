/**
 * A local stand-in for the parts of OpenRouter's API this service calls, over real HTTP on
 * 127.0.0.1, in the documented shapes (snake_case JSON, `{ data: … }` envelopes, errors as
 * `{ error: { code, message } }`):
 *
 *   GET    /api/v1/activity?date=D&api_key_hash=H   management key; last 30 completed UTC days
 *   GET    /api/v1/key                              the calling API key (usage, usage_daily)
 *   GET    /api/v1/generation?id=…                  any key; a generation's record (`total_cost`), 404 until known
 *   GET    /api/v1/keys                             management key; each key's limit, limit_reset and usage by period
 *   PATCH  /api/v1/keys/{hash}                      management key; `limit` (USD or null) and `limit_reset` change
 *   GET    /api/v1/observability/destinations       management key; offset/limit pages, workspace_id
 *   POST   /api/v1/observability/destinations       management key; at most 5 per type and workspace
 *   PATCH  /api/v1/observability/destinations/{id}  management key; only the fields sent change
 *
 * What OpenRouter "knows" is set by the test (`setActivity`), so it can differ from what was
 * delivered. Destinations are held in memory; header values come back masked (`Bear...wxyz`), as
 * OpenRouter masks secrets in destination configs.
 */
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export const MANAGEMENT_KEY = "sk-or-v1-mgmt-standin-0123456789abcdef"
export const API_KEY = "sk-or-v1-client-standin-fedcba9876543210"
export const API_KEY_NAME = "client-acme"
export const API_KEY_HASH = Crypto.createHash("sha256").update(API_KEY).digest("hex")
/** The workspace destinations are in when none is named. */
export const DEFAULT_WORKSPACE = "0df9e665-d932-5740-b2c7-b52af166bc11"

export interface StandInKey {
  readonly hash: string
  readonly name: string
  readonly label?: string
}

/** What OpenRouter's keys API reports of a key's limit: USD, `null` for none. */
export interface KeyLimit {
  limit: number | null
  limit_reset: "daily" | "weekly" | "monthly" | null
  usage: number
  usage_daily: number
  usage_weekly: number
  usage_monthly: number
}

export interface ActivityRow {
  readonly model: string
  readonly requests: number
  /** USD, as OpenRouter sends it (a JSON number) */
  readonly usage: number
  readonly permaslug?: string
  readonly provider?: string
}

export interface StoredDestination {
  id: string
  type: string
  name: string
  enabled: boolean
  privacy_mode: boolean
  sampling_rate: number
  api_key_hashes: Array<string> | null
  /** OpenRouter's default: false (spans without cost metadata) */
  broadcast_generation_cost: boolean
  filter_rules: unknown
  config: Record<string, unknown>
  created_at: string
  updated_at: string
  workspace_id: string
}

export interface OpenRouterStandIn {
  /** OPENROUTER_API_URL for the stand-in (…/api/v1) */
  readonly url: string
  readonly setActivity: (date: string, rows: ReadonlyArray<ActivityRow>, hash?: string) => void
  readonly setKeyUsage: (usage: number, usageDaily: number) => void
  /** OpenRouter's record of a generation: its `total_cost` in USD (a JSON number) */
  readonly setGeneration: (id: string, totalCost: number) => void
  /** the account's keys (`GET /keys`): add keys, or rename one by giving its hash a new name */
  readonly setKeys: (keys: ReadonlyArray<StandInKey>) => void
  /** a key's limit and usage by period, as `GET /keys` reports them (the client's key by default) */
  readonly keyLimit: (hash?: string) => KeyLimit
  readonly setKeyLimit: (limit: Partial<KeyLimit>, hash?: string) => void
  /** "down": connections are destroyed; a number: every request answers that status */
  readonly setFailure: (failure: "down" | number | null) => void
  /** delay every answer (timeouts) */
  readonly setDelay: (ms: number) => void
  /** the stand-in's "now" (activity window); default the real clock */
  readonly setNow: (ms: number | null) => void
  readonly destinations: () => Array<StoredDestination>
  /** add a destination as if someone had set it up in OpenRouter's UI */
  readonly addDestination: (d: Partial<StoredDestination> & { config: Record<string, unknown> }) => StoredDestination
  readonly requests: () => ReadonlyArray<{ method: string; path: string; authorization: string | undefined }>
  readonly close: () => Promise<void>
}

const mask = (v: string) => (v.length <= 12 ? "****" : `${v.slice(0, 4)}...${v.slice(-4)}`)

const maskConfig = (config: Record<string, unknown>) => {
  const headers = config.headers as Record<string, string> | undefined
  if (headers === undefined || headers === null) return config
  return { ...config, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, mask(v)])) }
}

const shown = (d: StoredDestination) => ({ ...d, config: maskConfig(d.config) })

export const startOpenRouterStandIn = async (): Promise<OpenRouterStandIn> => {
  const activity = new Map<string, Array<ActivityRow>>()
  let keys: Array<StandInKey> = [
    { hash: API_KEY_HASH, name: API_KEY_NAME, label: "sk-or-v1-cli...3210" },
    { hash: "0".repeat(64), name: "someone-else", label: "sk-or-v1-oth...0000" }
  ]
  const generations = new Map<string, number>()
  const limits = new Map<string, KeyLimit>()
  const limitOf = (hash: string): KeyLimit => {
    let l = limits.get(hash)
    if (l === undefined) limits.set(hash, l = { limit: null, limit_reset: null, usage: 0, usage_daily: 0, usage_weekly: 0, usage_monthly: 0 })
    return l
  }
  let usage = 0
  let usageDaily = 0
  let failure: "down" | number | null = null
  let delay = 0
  let now: number | null = null
  const destinations: Array<StoredDestination> = []
  const log: Array<{ method: string; path: string; authorization: string | undefined }> = []

  const newDestination = (d: Partial<StoredDestination> & { config: Record<string, unknown> }): StoredDestination => {
    const at = new Date().toISOString()
    return {
      id: Crypto.randomUUID(),
      type: d.type ?? "webhook",
      name: d.name ?? "Webhook",
      enabled: d.enabled ?? true,
      privacy_mode: d.privacy_mode ?? false,
      sampling_rate: d.sampling_rate ?? 1,
      api_key_hashes: d.api_key_hashes ?? null,
      broadcast_generation_cost: d.broadcast_generation_cost ?? false,
      filter_rules: d.filter_rules ?? null,
      config: d.config,
      created_at: at,
      updated_at: at,
      workspace_id: d.workspace_id ?? DEFAULT_WORKSPACE
    }
  }

  const window = () => {
    const today = Date.parse(new Date(now ?? Date.now()).toISOString().slice(0, 10) + "T00:00:00Z")
    return { first: new Date(today - 30 * 86_400_000).toISOString().slice(0, 10), last: new Date(today - 86_400_000).toISOString().slice(0, 10) }
  }

  const handle = (method: string, url: URL, auth: string | undefined, body: any): { status: number; json: unknown } => {
    const error = (status: number, message: string) => ({ status, json: { error: { code: status, message } } })
    const bearer = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined
    const path = url.pathname.replace(/^\/api\/v1/, "")
    if (path === "/generation" && method === "GET") {
      if (bearer !== API_KEY && bearer !== MANAGEMENT_KEY) return error(401, "No auth credentials found")
      const id = url.searchParams.get("id") ?? ""
      const cost = generations.get(id)
      if (cost === undefined) return error(404, `Generation ${id} not found`)
      return {
        status: 200,
        json: {
          data: {
            id,
            upstream_id: "chatcmpl-standin",
            total_cost: cost,
            cache_discount: null,
            created_at: new Date().toISOString(),
            model: "anthropic/claude-haiku-4.5",
            origin: "",
            usage: cost,
            is_byok: false,
            provider_name: "Anthropic",
            tokens_prompt: 10,
            tokens_completion: 25
          }
        }
      }
    }
    if (path === "/key" && method === "GET") {
      if (bearer !== API_KEY) return error(401, "No auth credentials found")
      return {
        status: 200,
        json: {
          data: {
            label: "sk-or-v1-cli...3210",
            usage,
            usage_daily: usageDaily,
            usage_weekly: usageDaily,
            usage_monthly: usageDaily,
            byok_usage: 0,
            byok_usage_daily: 0,
            limit: null,
            is_free_tier: false,
            is_management_key: false
          }
        }
      }
    }
    if (bearer !== MANAGEMENT_KEY) return error(401, "Management key required")
    if (path === "/keys" && method === "GET") {
      return {
        status: 200,
        json: {
          data: keys.map((k) => ({
            hash: k.hash,
            name: k.name,
            label: k.label ?? `sk-or-v1-${k.hash.slice(0, 3)}...${k.hash.slice(-4)}`,
            disabled: false,
            ...limitOf(k.hash),
            ...(k.hash === API_KEY_HASH && limits.get(k.hash)?.usage === 0 ? { usage } : {}),
            limit_remaining: limitOf(k.hash).limit === null ? null : Math.max(0, limitOf(k.hash).limit! - limitOf(k.hash).usage_monthly)
          }))
        }
      }
    }
    const keyPath = /^\/keys\/([^/]+)$/.exec(path)
    if (keyPath !== null && method === "PATCH") {
      const key = keys.find((k) => k.hash === keyPath[1])
      if (key === undefined) return error(404, "Key not found")
      const l = limitOf(key.hash)
      if ("limit" in body) {
        if (body.limit !== null && (typeof body.limit !== "number" || !(body.limit >= 0))) return error(400, "limit must be a non-negative number or null")
        l.limit = body.limit
      }
      if ("limit_reset" in body) l.limit_reset = body.limit_reset
      return { status: 200, json: { data: { hash: key.hash, name: key.name, label: key.label, disabled: false, ...l } } }
    }
    if (path === "/activity" && method === "GET") {
      const date = url.searchParams.get("date")
      const hash = url.searchParams.get("api_key_hash")
      const w = window()
      if (date === null || !/^\d{4}-\d{2}-\d{2}$/.test(date) || date < w.first || date > w.last) {
        return error(400, "Date must be within the last 30 (completed) UTC days")
      }
      const rows = hash === null
        ? [...activity.entries()].filter(([k]) => k.startsWith(date)).flatMap(([, r]) => r)
        : activity.get(`${date}|${hash}`) ?? []
      return {
        status: 200,
        json: {
          data: rows.map((r, i) => ({
            date,
            model: r.model,
            model_permaslug: r.permaslug ?? `${r.model}-2025-01-01`,
            endpoint_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            provider_name: r.provider ?? "Stand-in",
            usage: r.usage,
            byok_usage_inference: 0,
            requests: r.requests,
            prompt_tokens: r.requests * 100,
            completion_tokens: r.requests * 50,
            reasoning_tokens: 0
          }))
        }
      }
    }
    if (path === "/observability/destinations" && method === "GET") {
      const offset = Number(url.searchParams.get("offset") ?? "0")
      const limit = Number(url.searchParams.get("limit") ?? "50")
      const workspace = url.searchParams.get("workspace_id") ?? DEFAULT_WORKSPACE
      const inWorkspace = destinations.filter((d) => d.workspace_id === workspace)
      return { status: 200, json: { data: inWorkspace.slice(offset, offset + limit).map(shown), total_count: inWorkspace.length } }
    }
    if (path === "/observability/destinations" && method === "POST") {
      if (typeof body?.name !== "string" || typeof body?.type !== "string" || typeof body?.config !== "object") {
        return error(400, "name, type and config are required")
      }
      if (body.type === "webhook" && typeof body.config.url !== "string") return error(400, "config.url is required")
      const workspace = typeof body.workspace_id === "string" ? body.workspace_id : DEFAULT_WORKSPACE
      if (destinations.filter((d) => d.type === body.type && d.workspace_id === workspace).length >= 5) {
        return error(400, "A maximum of 5 destinations per type is allowed")
      }
      if (Array.isArray(body.api_key_hashes) && body.api_key_hashes.length === 0) return error(400, "api_key_hashes must contain at least one hash")
      const d = newDestination({ ...body, workspace_id: workspace })
      destinations.push(d)
      return { status: 201, json: { data: shown(d) } }
    }
    const one = /^\/observability\/destinations\/([^/]+)$/.exec(path)
    if (one !== null && method === "PATCH") {
      const d = destinations.find((x) => x.id === decodeURIComponent(one[1]))
      if (d === undefined) return error(404, "Destination not found")
      for (const k of ["name", "enabled", "privacy_mode", "sampling_rate", "api_key_hashes", "broadcast_generation_cost", "filter_rules"] as const) {
        if (k in body) (d as any)[k] = body[k]
      }
      if (body.config !== undefined) {
        // Masked values are ignored; unset fields keep their current value.
        const next = { ...d.config }
        for (const [k, v] of Object.entries(body.config as Record<string, unknown>)) {
          if (k === "headers" && v !== null && typeof v === "object") {
            const headers = { ...(d.config.headers as Record<string, string> | undefined) }
            for (const [h, hv] of Object.entries(v as Record<string, string>)) if (!hv.includes("...")) headers[h] = hv
            next.headers = headers
          } else next[k] = v
        }
        d.config = next
      }
      d.updated_at = new Date().toISOString()
      return { status: 200, json: { data: shown(d) } }
    }
    return error(404, "Not Found")
  }

  const server = Http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    log.push({ method: req.method ?? "GET", path: url.pathname + url.search, authorization: req.headers.authorization })
    if (failure === "down") {
      req.socket.destroy()
      return
    }
    let raw = ""
    req.on("data", (c) => (raw += c))
    req.on("end", () => {
      const reply = () => {
        let out: { status: number; json: unknown }
        if (typeof failure === "number") {
          out = { status: failure, json: { error: { code: failure, message: "Internal Server Error" } } }
        } else {
          let body: unknown = undefined
          try {
            body = raw === "" ? {} : JSON.parse(raw)
          } catch {
            out = { status: 400, json: { error: { code: 400, message: "Invalid JSON" } } }
            res.writeHead(out.status, { "content-type": "application/json" }).end(JSON.stringify(out.json))
            return
          }
          out = handle(req.method ?? "GET", url, req.headers.authorization, body)
        }
        const text = JSON.stringify(out.json)
        res.writeHead(out.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
        res.end(text)
      }
      if (delay > 0) setTimeout(reply, delay)
      else reply()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    setActivity: (date, rows, hash = API_KEY_HASH) => void activity.set(`${date}|${hash}`, [...rows]),
    setGeneration: (id, cost) => void generations.set(id, cost),
    setKeys: (k) => void (keys = [...k]),
    keyLimit: (hash = API_KEY_HASH) => ({ ...limitOf(hash) }),
    setKeyLimit: (l, hash = API_KEY_HASH) => void Object.assign(limitOf(hash), l),
    setKeyUsage: (u, d) => {
      usage = u
      usageDaily = d
    },
    setFailure: (f) => {
      failure = f
      if (f === "down") server.closeIdleConnections()
    },
    setDelay: (ms) => {
      delay = ms
    },
    setNow: (ms) => {
      now = ms
    },
    destinations: () => destinations,
    addDestination: (d) => {
      const x = newDestination(d)
      destinations.push(x)
      return x
    },
    requests: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
