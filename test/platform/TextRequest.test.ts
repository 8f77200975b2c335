/** An unreachable host is named with its cause, never "Transport error". */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect } from "effect"
import * as Net from "node:net"
import { describe, expect, it } from "vitest"
import { textRequest, unreachableReason } from "../../src/platform/TextRequest.js"

const whyNot = (url: string) =>
  Effect.runPromise(
    Effect.flip(Effect.flatMap(HttpClient.HttpClient, (client) =>
      textRequest(client, HttpClientRequest.get(url), {
        timeout: "5 seconds",
        onTimeout: () => "timed out",
        onUnreachable: unreachableReason
      }))).pipe(Effect.provide(FetchHttpClient.layer))
  )

/** A port that nothing listens on: bound, then closed again. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("an outbound request that gets no answer", () => {
  it("names the host and says it refused the connection", async () => {
    const port = await closedPort()
    const why = await whyNot(`http://127.0.0.1:${port}/api/exchangerates/rates/a/usd/`)
    expect(why).toBe(`127.0.0.1:${port} refused the connection (nothing listens there) [ECONNREFUSED]`)
  })

  it("never quotes a URL's credentials", async () => {
    const why = await whyNot(`http://user:secret-pass@127.0.0.1:${await closedPort()}/`)
    expect(why).toContain("127.0.0.1:")
    expect(why).not.toContain("secret-pass")
  })

  it("says when the host name cannot be resolved", async () => {
    const why = await whyNot("http://nbp-rates.invalid/api/")
    expect(why).toMatch(/^the host name nbp-rates\.invalid could not be resolved \(DNS: no network, or a wrong host\) \[E[A-Z_]+\]$/)
  })
})
