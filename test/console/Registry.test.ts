/**
 * The console's registry: clients.json as `compose render` reads it, one file per server, each
 * client with where the console reaches it (its baseUrl, else the port the renderer publishes on
 * the bind address, or its compose service) and its admin token (in the file, or a token file
 * beside it); a client without a usable token is listed with why. Ids are unique across servers;
 * a file that stops parsing keeps the last good registry and says why.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { makeRegistry } from "../../src/console/Registry.js"
import { tempDir } from "../support/tmp.js"

const write = (dir: string, name: string, value: unknown) => {
  const file = Path.join(dir, name)
  Fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value))
  return file
}

describe("the console's registry", () => {
  it.scoped("reads several servers' files: base URLs, tokens from the file or a token file, and why a client has none", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      Fs.writeFileSync(Path.join(dir, "beta.token"), "beta-admin-token-from-a-file-0123\n")
      const one = write(dir, "one.json", {
        imageVersion: "1.0.0",
        bindAddress: "0.0.0.0",
        clients: [
          { id: "alpha", orgId: "alpha", port: 8101, adminToken: "alpha-admin-token-0123456789,alpha-old-token-0123456789" },
          { id: "beta", orgId: "beta", port: 8102, adminTokenFile: "beta.token" }
        ]
      })
      const two = write(dir, "two.json", {
        imageVersion: "1.0.0",
        bindAddress: "10.0.0.5",
        clients: [
          { id: "gamma", orgId: "gamma", port: 8101 },
          { id: "delta", orgId: "delta", port: 8102, baseUrl: "https://delta.example.pl:8443/", adminTokenFile: "missing.token" }
        ]
      })
      const registry = yield* makeRegistry([one, two], "published")
      const snapshot = yield* registry.current
      expect(snapshot.error).toBeUndefined()
      expect(snapshot.clients.map((c) => [c.id, c.baseUrl, c.token === undefined ? null : Redacted.value(c.token), c.problem ?? null])).toEqual([
        ["alpha", "http://127.0.0.1:8101", "alpha-admin-token-0123456789", null],
        ["beta", "http://127.0.0.1:8102", "beta-admin-token-from-a-file-0123", null],
        ["gamma", "http://10.0.0.5:8101", null, "no admin token: set adminToken or adminTokenFile for this client in clients.json"],
        ["delta", "https://delta.example.pl:8443", null, `the admin token file ${Path.join(dir, "missing.token")} cannot be read (ENOENT)`]
      ])
      // A token never shows in how the registry prints.
      expect(JSON.stringify(snapshot)).not.toContain("alpha-admin-token")
    }))

  it.scoped("reaches clients by their compose service in compose mode, with the token the container generated", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const file = write(dir, "clients.json", { imageVersion: "1.0.0", clients: [{ id: "acme", orgId: "acme", port: 8101 }] })
      const registry = yield* makeRegistry([file], "compose")
      const [acme] = (yield* registry.current).clients
      expect(acme.baseUrl).toBe("http://mai-acme:8080")
      expect(acme.problem).toBe("the admin token file /clients/acme/admin-token cannot be read (ENOENT)")
    }))

  it.scoped("refuses an id on two servers, and keeps the last good registry when a file stops parsing", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const one = write(dir, "one.json", { imageVersion: "1.0.0", clients: [{ id: "acme", orgId: "acme", port: 8101, adminToken: "acme-admin-token-0123456789" }] })
      const two = write(dir, "two.json", { imageVersion: "1.0.0", clients: [{ id: "acme", orgId: "acme2", port: 8101, adminToken: "acme2-admin-token-0123456789" }] })
      const both = yield* makeRegistry([one, two], "published")
      expect((yield* both.current).error).toBe(`${two}: client id "acme" is also in ${one}: ids must be unique across servers`)

      const registry = yield* makeRegistry([one], "published")
      write(dir, "one.json", "{ \"imageVersion\": ")
      yield* registry.reload
      const after = yield* registry.current
      expect(after.clients.map((c) => c.id)).toEqual(["acme"])
      expect(after.error).toMatch(/one\.json: is not valid JSON/)
    }))
})
