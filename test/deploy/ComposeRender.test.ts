/**
 * `mai-usage compose render` end to end: the command as the CLI runs it, and the
 * rendered file checked by Debian's `docker-compose` itself.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { vi } from "vitest"
import { ComposeInputError } from "../../src/deploy/errors.js"
import { compose, composeConfig, parsedConfig, refusal, render } from "./composeCli.js"
import { SECRETS, tempDir, threeClients, writeJson } from "./fixtures.js"

describe("compose render", () => {
  it.effect("renders three clients into a file docker-compose accepts: one service each, one NBP service", () =>
    Effect.gen(function*() {
      const { out, text } = yield* render(threeClients())
      expect(text).not.toContain("{{")
      expect(text).not.toContain("}}")
      expect(Fs.statSync(out).mode & 0o777).toBe(0o600)

      const config = parsedConfig(out)
      const services = Object.keys(config.services).sort()
      expect(services).toEqual(["mai-3gamma", "mai-alpha", "mai-beta_2", "mai-nbp-service"])
      const nbp = Object.entries<any>(config.services).filter(([, s]) => String(s.image).includes("mai-nbp-service"))
      expect(nbp.map(([name]) => name)).toEqual(["mai-nbp-service"])
      expect(config.services["mai-nbp-service"].healthcheck.test.join(" ")).toContain("/health")
      expect(config.services["mai-nbp-service"].image).toBe("mai-nbp-service:1.2.3")

      const clients = ["alpha", "beta_2", "3gamma"]
      const hostPorts = clients.map((id) => {
        const service = config.services[`mai-${id}`]
        expect(service.container_name).toBe(`mai-${id}`)
        expect(service.image).toBe("registry.example.com/mai-usage:1.2.3")
        expect(service.depends_on).toEqual({ "mai-nbp-service": { condition: "service_healthy" } })
        expect(service.environment.NBP_SERVICE_URL).toBe("http://mai-nbp-service:8001")
        expect(service.environment.DATA_DIR).toBe("/app/backend/data")
        expect(service.environment.PORT).toBe("8080")
        expect(service.environment.INFLUXDB_URL).toBe("https://eu-central-1-1.aws.cloud2.influxdata.com")
        expect(service.environment.INFLUXDB_ORG).toBe("reseller")
        expect(service.environment.INFLUXDB_BUCKET).toBe("mai-usage-tracking")
        expect(service.volumes).toEqual([`${id}_data:/app/backend/data:rw`])
        expect(service.ports).toHaveLength(1)
        return String(service.ports[0]).split(":")[1]
      })
      expect(hostPorts).toEqual(["8101", "8102", "8103"])
      expect(new Set(hostPorts).size).toBe(3)

      // One labelled volume per client, and nothing else.
      expect(Object.keys(config.volumes).sort()).toEqual(clients.map((id) => `${id}_data`).sort())
      for (const id of clients) {
        const volume = config.volumes[`${id}_data`]
        expect(volume.name).toBe(`${id}_data`)
        expect(volume.labels).toEqual({ "mai.client.id": id, "mai.backup.enabled": "true" })
      }

      // docker-compose agrees when asked in its own words.
      expect(composeConfig(out, "--services").stdout.trim().split("\n").sort()).toEqual(services)
      expect(composeConfig(out, "--volumes").stdout.trim().split("\n")).toHaveLength(3)
    }))

  it.effect("keeps the deployment's names: mai-<id>, <id>_data, the mai.* labels, OPENROUTER_EXTERNAL_USER", () =>
    Effect.gen(function*() {
      const { out } = yield* render(threeClients())
      const config = parsedConfig(out)
      const orgs: Record<string, string> = { alpha: "alpha-sp-z-o-o", beta_2: "beta.org_2", "3gamma": "gamma" }
      for (const [id, org] of Object.entries(orgs)) {
        const service = config.services[`mai-${id}`]
        expect(service.labels).toEqual({
          "mai.client.id": id,
          "mai.client.org": org,
          "mai.influxdb.measurement": "usage_tracking"
        })
        expect(service.environment.OPENROUTER_EXTERNAL_USER).toBe(org)
        expect(service.environment.CLIENT_ORG_ID).toBe(org)
      }
      const nbp = config.services["mai-nbp-service"]
      expect(nbp.container_name).toBe("mai-nbp-service")
      expect(nbp.healthcheck.test).toEqual(["CMD", "node", "-e", expect.stringContaining("127.0.0.1:8001/health")])
    }))

  it.effect("passes each client's settings through, secrets exactly as given (compose shows `$` as `$$`)", () =>
    Effect.gen(function*() {
      const { out } = yield* render(threeClients())
      const env = (id: string) => parsedConfig(out).services[`mai-${id}`].environment
      const unescape = (s: string) => s.replaceAll("$$", "$")

      const alpha = env("alpha")
      expect(alpha.CLIENT_ORG_ID).toBe("alpha-sp-z-o-o")
      expect(alpha.OPENROUTER_WEBHOOK_SECRET).toBe(`${SECRETS.alphaWebhook},${SECRETS.alphaWebhookNext}`)
      expect(alpha.ADMIN_TOKEN).toBe(SECRETS.alphaAdmin)
      expect(alpha.OPENROUTER_API_KEY).toBe(SECRETS.alphaOpenRouter)
      expect(alpha.OPENROUTER_API_KEY_NAMES).toBe("alpha-prod,alpha-dev")
      expect(alpha.USAGE_MARKUP_MULTIPLIER).toBe("1.25")
      expect(unescape(alpha.INFLUXDB_TOKEN)).toBe(SECRETS.influxToken)

      const beta = env("beta_2")
      expect(beta.CLIENT_ORG_ID).toBe("beta.org_2")
      expect(unescape(beta.OPENROUTER_WEBHOOK_SECRET)).toBe(SECRETS.betaWebhook)
      expect(unescape(beta.ADMIN_TOKEN)).toBe(SECRETS.betaAdmin)

      // Absent optional settings are left out, so the container uses its own default or
      // generates the secret into its volume on first start.
      const gamma = env("3gamma")
      expect(Object.keys(gamma)).not.toContain("ADMIN_TOKEN")
      expect(Object.keys(gamma)).not.toContain("OPENROUTER_API_KEY")
      expect(Object.keys(gamma)).not.toContain("OPENROUTER_API_KEY_NAMES")
      expect(Object.keys(gamma)).not.toContain("USAGE_MARKUP_MULTIPLIER")
    }))

  it.effect("without influxdb the clients run in embedded mode (no INFLUXDB_* variables)", () =>
    Effect.gen(function*() {
      const { influxdb: _, ...embedded } = threeClients()
      const { out } = yield* render(embedded)
      for (const [name, service] of Object.entries<any>(parsedConfig(out).services)) {
        if (name === "mai-nbp-service") continue
        expect(Object.keys(service.environment).filter((k) => k.startsWith("INFLUXDB_"))).toEqual([])
      }
    }))

  it.effect("the documented example is refused until its REPLACE-… secrets are filled in, then renders", () =>
    Effect.gen(function*() {
      const example = JSON.parse(Fs.readFileSync("docs/clients.example.json", "utf8"))
      expect(yield* refusal(example)).toBe(
        "influxdb.token is still the example's REPLACE-… placeholder: put the real secret there"
      )
      example.influxdb.token = SECRETS.influxToken
      expect(yield* refusal(example)).toBe(
        "smtpUrl is still the example's REPLACE-… placeholder: put the real secret there, or leave the field out (then no alert goes by e-mail)"
      )
      example.smtpUrl = SECRETS.smtpUrl
      expect(yield* refusal(example)).toBe(
        "clients[0].openrouterApiKey is still the example's REPLACE-… placeholder: put the real secret there, or leave the field out (then there is no key drift check)"
      )
      example.clients[0].openrouterApiKey = SECRETS.alphaOpenRouter
      expect(yield* refusal(example)).toBe(
        "clients[0].webhookSecret is still the example's REPLACE-… placeholder: put the real secret there, or leave the field out to have the container generate its own"
      )
      example.clients[0].webhookSecret = SECRETS.alphaWebhook
      expect(yield* refusal(example)).toMatch(/^clients\[0\]\.adminToken is still the example's REPLACE-… placeholder/)
      example.clients[0].adminToken = SECRETS.alphaAdmin
      expect(yield* refusal(example)).toBe(
        "clients[0].openrouterManagementKey is still the example's REPLACE-… placeholder: put the real secret there, or leave the field out (then the reconciliation and the Broadcast destination check are off)"
      )
      example.clients[0].openrouterManagementKey = SECRETS.alphaManagement
      expect(yield* refusal(example)).toMatch(/^clients\[0\]\.alertWebhookSecret is still the example's REPLACE-… placeholder/)
      example.clients[0].alertWebhookSecret = SECRETS.alphaAlertWebhook
      const { out } = yield* render(example)
      const services = parsedConfig(out).services
      expect(Object.keys(services)).toHaveLength(example.clients.length + 1)
      const acme = services["mai-acme"].environment
      expect(acme.CLIENT_NIP).toBe(example.clients[0].clientNip)
      expect(acme.RESELLER_NIP).toBe(example.resellerNip)
      expect(acme.OPENROUTER_MANAGEMENT_KEY).toBe(SECRETS.alphaManagement)
    }))

  it.effect("without --out writes the compose file, and only it, to stdout", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const clientsFile = writeJson(dir, threeClients())
      const chunks: Array<string> = []
      const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
        chunks.push(String(chunk))
        return true
      })
      yield* compose("render", "--clients", clientsFile).pipe(Effect.ensuring(Effect.sync(() => spy.mockRestore())))
      const out = writeJson(dir, chunks.join(""), "docker-compose.yml")
      expect(Object.keys(parsedConfig(out).services)).toHaveLength(4)
    }))

  it.effect("a refusal fails with ComposeInputError and leaves an existing --out file untouched", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const out = Path.join(dir, "docker-compose.yml")
      Fs.writeFileSync(out, "previous\n")
      const clients = threeClients()
      clients.clients[1].port = 8101
      const clientsFile = writeJson(dir, clients)
      const error = yield* Effect.flip(compose("render", "--clients", clientsFile, "--out", out))
      expect(error).toBeInstanceOf(ComposeInputError)
      expect(Fs.readFileSync(out, "utf8")).toBe("previous\n")
    }))

  it.effect("a clients file that does not exist is refused in one line", () =>
    Effect.gen(function*() {
      const missing = Path.join(tempDir(), "nope.json")
      const error = yield* Effect.flip(compose("render", "--clients", missing))
      expect(error).toBeInstanceOf(ComposeInputError)
      expect((error as ComposeInputError).message).toBe(`clients file ${missing} does not exist`)
    }))

  describe("refuses, in one line without any secret", () => {
    it.effect("a duplicate id", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[2].id = "alpha"
        expect(yield* refusal(clients)).toBe("clients[2].id \"alpha\" is used twice (also clients[0]): ids must be unique")
      }))

    it.effect("a duplicate port", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[2].port = 8102
        expect(yield* refusal(clients)).toBe(
          "clients[2].port 8102 is used twice (also clients[1] \"beta_2\"): ports must be unique"
        )
      }))

    it.effect("a missing field", () =>
      Effect.gen(function*() {
        const clients: any = threeClients()
        delete clients.clients[1].orgId
        expect(yield* refusal(clients)).toBe("clients[1].orgId is missing")
        delete clients.imageVersion
        expect(yield* refusal(clients)).toBe("imageVersion is missing")
        const noPort: any = threeClients()
        delete noPort.clients[0].port
        expect(yield* refusal(noPort)).toBe("clients[0].port is missing")
        const noToken: any = threeClients()
        delete noToken.influxdb.token
        expect(yield* refusal(noToken)).toBe("influxdb.token is missing")
      }))

    it.effect("an id that is not a compose service name", () =>
      Effect.gen(function*() {
        for (const id of ["Alpha", "-alpha", "_alpha", "al pha", "al.pha", "ąlpha", "", "a".repeat(64)]) {
          const clients = threeClients()
          clients.clients[0].id = id
          expect(yield* refusal(clients)).toMatch(/^clients\[0\]\.id must be a valid compose service name: /)
        }
      }))

    it.effect("a port out of range or not an integer", () =>
      Effect.gen(function*() {
        for (const port of [0, -1, 65536, 8080.5, "8080", null]) {
          const clients: any = threeClients()
          clients.clients[1].port = port
          expect(yield* refusal(clients)).toBe("clients[1].port must be an integer port between 1 and 65535")
        }
      }))

    it.effect("a placeholder secret in any secret field, in any case, and in a rotation list", () =>
      Effect.gen(function*() {
        const edits: Array<[string, (c: any) => void]> = [
          ["influxdb.token", (c) => (c.influxdb.token = "REPLACE-with-an-InfluxDB-token")],
          ["clients[1].webhookSecret", (c) => (c.clients[1].webhookSecret = "replace-me-with-a-real-secret")],
          ["clients[0].webhookSecret", (c) => (c.clients[0].webhookSecret = `${SECRETS.alphaWebhook},REPLACE-with-the-next-one`)],
          ["clients[2].adminToken", (c) => (c.clients[2].adminToken = "REPLACE-with-another-openssl-rand-hex-32")],
          ["clients[0].openrouterApiKey", (c) => (c.clients[0].openrouterApiKey = "sk-or-v1-REPLACE")]
        ]
        for (const [where, edit] of edits) {
          const clients: any = threeClients()
          edit(clients)
          expect(yield* refusal(clients)).toMatch(new RegExp(`^${where.replace(/[.[\]]/g, "\\$&")} is still the example's REPLACE-… placeholder`))
        }
      }))

    it.effect("the id of the NBP service", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[1].id = "nbp-service"
        expect(yield* refusal(clients)).toBe(
          "clients[1].id \"nbp-service\" is reserved: mai-nbp-service is the server's NBP rate service"
        )
      }))

    it.effect("an org id InfluxDB tags or file names could not keep apart (CLIENT_ORG_ID's rule)", () =>
      Effect.gen(function*() {
        for (const orgId of ["tenant\\", "tenant\\\u2060", "acme sp. z o.o.", "-x", "x".repeat(65)]) {
          const clients = threeClients()
          clients.clients[1].orgId = orgId
          expect(yield* refusal(clients)).toBe(
            "clients[1].orgId must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (CLIENT_ORG_ID)"
          )
        }
      }))

    it.effect("template syntax in a value names the client and the field, never the value", () =>
      Effect.gen(function*() {
        const clients: any = threeClients()
        clients.clients[1].adminToken = "tok-{{0123456789abcdef}}"
        const why = yield* refusal(clients)
        expect(why).toBe(
          "clients[1].adminToken (client beta_2) contains \"{{\" or \"}}\", which the compose template reserves for its placeholders"
        )
        expect(why).not.toContain("0123456789abcdef")
      }))

    it.effect("a duplicate client organisation", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[2].orgId = "alpha-sp-z-o-o"
        expect(yield* refusal(clients)).toMatch(/^clients\[2\]\.orgId "alpha-sp-z-o-o" is used twice/)
      }))

    it.effect("a secret shared by two clients, without printing it", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[2].webhookSecret = SECRETS.alphaWebhookNext
        expect(yield* refusal(clients)).toBe(
          "clients[2].webhookSecret repeats the secret of clients[0].webhookSecret: every secret must be unique"
        )
        const sameAdmin: any = threeClients()
        sameAdmin.clients[1].adminToken = SECRETS.alphaWebhook
        expect(yield* refusal(sameAdmin)).toBe(
          "clients[1].adminToken repeats the secret of clients[0].webhookSecret: every secret must be unique"
        )
      }))

    it.effect("a malformed secret, without printing it", () =>
      Effect.gen(function*() {
        const cases: Array<[string, (c: any) => void, RegExp]> = [
          ["too short", (c) => (c.clients[0].webhookSecret = "short-secret"), /^clients\[0\]\.webhookSecret must be/],
          ["with a space", (c) => (c.clients[0].adminToken = `${SECRETS.alphaAdmin} x`), /^clients\[0\]\.adminToken must be/],
          ["with a newline", (c) => (c.influxdb.token = `${SECRETS.influxToken}\n`), /^influxdb\.token must be/],
          ["not a string", (c) => (c.clients[0].openrouterApiKey = 12345), /^clients\[0\]\.openrouterApiKey must be/],
          ["misspelt key", (c) => {
            c.clients[0].webhookSecert = SECRETS.alphaWebhook
          }, /^clients\[0\]\.webhookSecert is not a known field/],
          ["empty rotation part", (c) => (c.clients[0].webhookSecret = `${SECRETS.alphaWebhook},`), /^clients\[0\]\.webhookSecret must be/]
        ]
        for (const [, edit, expected] of cases) {
          const clients: any = threeClients()
          edit(clients)
          expect(yield* refusal(clients)).toMatch(expected)
        }
      }))

    it.effect("a file that is not JSON, without quoting it", () =>
      Effect.gen(function*() {
        const text = JSON.stringify(threeClients(), null, 2).replace(`"${SECRETS.alphaAdmin}"`, `"${SECRETS.alphaAdmin}`)
        expect(yield* refusal(text)).toMatch(/^is not valid JSON/)
      }))

    it.effect("an empty client list, other bad values", () =>
      Effect.gen(function*() {
        expect(yield* refusal({ ...threeClients(), clients: [] })).toBe("clients is empty: list at least one client")
        expect(yield* refusal([])).toBe("the file must be a JSON object with imageVersion and clients")
        expect(yield* refusal({ ...threeClients(), imageVersion: "1.2.3 latest" })).toMatch(/^imageVersion must be/)
        expect(yield* refusal({ ...threeClients(), bindAddress: "localhost" })).toMatch(/^bindAddress must be/)
        const badUrl: any = threeClients()
        badUrl.influxdb.url = "ftp://influx"
        expect(yield* refusal(badUrl)).toBe("influxdb.url must be an http:// or https:// URL")
        const badMarkup: any = threeClients()
        badMarkup.clients[0].markup = 0
        expect(yield* refusal(badMarkup)).toBe("clients[0].markup must be a positive decimal number such as 1.3")
      }))
  })
})
