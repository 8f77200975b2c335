/**
 * The reseller's console in the rendered compose file: `"console": {"enabled": true}` in
 * clients.json adds the `mai-console` service (its image, its published port, clients.json
 * mounted read-only from where it was rendered, each client's volume read-only for a generated
 * admin token, its own data volume), checked by docker-compose itself; without the flag there is
 * no trace of it. The console's own fields of a client (baseUrl, adminTokenFile) are checked.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Path from "node:path"
import { parseClientsFile } from "../../src/deploy/ClientsFile.js"
import { parsedConfig, refusal, render } from "./composeCli.js"
import { threeClients } from "./fixtures.js"

describe("the console in compose render", () => {
  it.effect("adds mai-console when clients.json enables it, with every client's volume read-only", () =>
    Effect.gen(function*() {
      const clients = { ...threeClients(), console: { enabled: true, port: 8190 } }
      const { dir, out, text } = yield* render(clients)
      expect(text).not.toContain("{{")
      const config = parsedConfig(out)
      expect(Object.keys(config.services).sort()).toEqual(["mai-3gamma", "mai-alpha", "mai-beta_2", "mai-console", "mai-nbp-service"])
      const service = config.services["mai-console"]
      expect(service.image).toBe("mai-console:1.2.3")
      expect(service.container_name).toBe("mai-console")
      expect(service.ports.map(String)).toEqual(["127.0.0.1:8190:8090/tcp"])
      expect(service.environment).toMatchObject({ CONSOLE_CLIENTS: "/config/clients.json", CONSOLE_CLIENTS_VIA: "compose", CONSOLE_PORT: "8090" })
      expect(service.volumes).toEqual([
        `${Path.join(dir, "clients.json")}:/config/clients.json:ro`,
        "mai-console_data:/app/console/data:rw",
        "alpha_data:/clients/alpha:ro",
        "beta_2_data:/clients/beta_2:ro",
        "3gamma_data:/clients/3gamma:ro"
      ])
      expect(service.healthcheck.test.join(" ")).toContain("8090/health")
      expect(config.volumes["mai-console_data"].name).toBe("mai-console_data")
    }))

  it.effect("leaves no trace of it when the flag is off or absent", () =>
    Effect.gen(function*() {
      for (const clients of [threeClients(), { ...threeClients(), console: { enabled: false } }]) {
        const { out, text } = yield* render(clients)
        expect(text).not.toContain("mai-console")
        expect(Object.keys(parsedConfig(out).volumes)).toHaveLength(3)
      }
    }))

  it.effect("refuses a console block or console fields that are not right, naming where", () =>
    Effect.gen(function*() {
      expect(yield* refusal({ ...threeClients(), console: { enabled: "yes" } })).toBe("console.enabled must be true or false")
      const withUrl = threeClients()
      ;(withUrl.clients[0] as any).baseUrl = "http://user:secret@10.0.0.5:8101"
      expect(yield* refusal(withUrl)).toMatch(/^clients\[0\]\.baseUrl must be an http:\/\/ or https:\/\/ URL without credentials/)
    }))

  it("accepts a client's baseUrl and adminTokenFile", () => {
    const file = threeClients()
    ;(file.clients[1] as any).baseUrl = "https://beta.example.pl:8443"
    ;(file.clients[1] as any).adminTokenFile = "/run/secrets/beta-admin-token"
    const parsed = parseClientsFile(JSON.stringify(file))
    expect(Either.isRight(parsed)).toBe(true)
  })
})
