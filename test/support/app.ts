/**
 * Starts the real app in-process on a free loopback port with its own temporary DATA_DIR.
 * Tests talk to it over real HTTP.
 */
import { Effect, Exit, Layer, Logger, LogLevel, ManagedRuntime, Scope } from "effect"
import * as Fs from "node:fs"
import { platformFromMap, serveLayer } from "../../src/App.js"
import { Listening } from "../../src/http/Server.js"
import { tempDir } from "./tmp.js"

export const WEBHOOK_SECRET = "test-webhook-secret-0123456789"
export const ADMIN_TOKEN = "test-admin-token-0123456789"

export { tempDir } from "./tmp.js"

/** Fetch options with the admin bearer (e.g. for `/ready`'s details, which anyone else sees without). */
export const asAdmin: RequestInit = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }

export interface TestApp {
  readonly url: string
  readonly dataDir: string
  readonly vars: Record<string, string>
  readonly runtime: ManagedRuntime.ManagedRuntime<any, any>
  readonly close: () => Promise<void>
}

export const baseVars = (dataDir: string): Record<string, string> => ({
  PORT: "0",
  HOST: "127.0.0.1",
  DATA_DIR: dataDir,
  OPENROUTER_WEBHOOK_SECRET: WEBHOOK_SECRET,
  ADMIN_TOKEN,
  DAILY_BATCH_ENABLED: "false",
  NBP_API_URL: "http://127.0.0.1:9/api/exchangerates/rates/a/usd/"
})

/** `overrides` are merged over the defaults above; a fresh temp DATA_DIR unless one is given. */
export const startApp = async (overrides: Record<string, string> = {}): Promise<TestApp> => {
  const dataDir = overrides.DATA_DIR ?? tempDir()
  const vars = { ...baseVars(dataDir), ...overrides }
  const layer = serveLayer(platformFromMap(vars)).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))
  const runtime = ManagedRuntime.make(layer)
  const listening = await runtime.runPromise(Listening)
  // The data dir outlives close() (tests restart the app on it); it goes after the test file.
  const close = () => runtime.dispose()
  return { url: listening.url, dataDir, vars, runtime, close }
}

/**
 * Logs in through the dashboard's form, as a browser on the app's own page would (its Origin).
 * `cookie` is the `name=value` to send back; `setCookie` the full header.
 */
export const login = async (url: string, token = ADMIN_TOKEN, headers: Record<string, string> = {}) => {
  const res = await fetch(url + "/login", {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(url).origin, ...headers },
    body: new URLSearchParams({ token }).toString()
  })
  const setCookie = res.headers.get("set-cookie") ?? undefined
  return { status: res.status, res, setCookie, cookie: setCookie?.split(";")[0] }
}

export const fixture = (name: string): Buffer =>
  Fs.readFileSync(new URL(`../fixtures/openrouter/${name}`, import.meta.url))

export const postWebhook = (
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  path = "/api/v1/webhooks/openrouter",
  method = "POST"
) =>
  fetch(url + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${WEBHOOK_SECRET}`, ...headers },
    body
  })

export { Effect, Exit, Scope }
