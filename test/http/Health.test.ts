/**
 * `/health`, the liveness probe of the operator's console and of container engines. The server
 * answers it before the Effect app (as fast as a bare `node:http` server: docs/benchmarks.md);
 * these are its answers over real HTTP, which must stay those of the app's own route.
 */
import * as Http from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { asAdmin, startApp, type TestApp } from "../support/app.js"

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app.close())

const probes = async () => {
  const text = await (await fetch(app.url + "/metrics", asAdmin)).text()
  const m = /^mai_http_request_duration_seconds_count\{route="other"\} (\d+)$/m.exec(text)
  return Number(m?.[1] ?? 0)
}

/** A HEAD request's status, headers and the bytes after them (none are allowed). */
const head = (url: string) =>
  new Promise<{ status: number; type: string | undefined; bytes: number }>((resolve, reject) => {
    const req = Http.request(url, { method: "HEAD" }, (res) => {
      let bytes = 0
      res.on("data", (c: Buffer) => (bytes += c.length))
      res.on("end", () => resolve({ status: res.statusCode!, type: res.headers["content-type"], bytes }))
    })
    req.on("error", reject)
    req.end()
  })

describe("/health", () => {
  it("answers GET with 200 and {\"status\":\"ok\"} as JSON, with or without a query, and is counted", async () => {
    const before = await probes()
    for (const path of ["/health", "/health?probe=console"]) {
      const res = await fetch(app.url + path)
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type")).toBe("application/json")
      expect(await res.json()).toEqual({ status: "ok" })
    }
    // the /metrics request itself is counted once it has finished: two probes, then that one
    expect(await probes()).toBe(before + 3)
  })

  it("answers HEAD with 200 and no body", async () => {
    expect(await head(app.url + "/health")).toEqual({ status: 200, type: "application/json", bytes: 0 })
  })

  it("is only GET and HEAD: any other method, and any other path under it, is the app's 404", async () => {
    expect((await fetch(app.url + "/health", { method: "POST", body: "{}" })).status).toBe(404)
    expect((await fetch(app.url + "/health", { method: "DELETE" })).status).toBe(404)
    expect((await fetch(app.url + "/health/extra")).status).toBe(404)
    expect((await fetch(app.url + "/healthz")).status).toBe(404)
  })
})
