/**
 * The settings table (src/deploy/settings.ts) through `mai-usage compose render`: every row reaches
 * its variable in the right container (checked by docker-compose itself), an absent one leaves no
 * line, each is refused by its own rule, secrets stay secret; and the table, the docs and the
 * example agree.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { NIP_RULE } from "../../src/domain/Nip.js"
import { SETTINGS_LINE } from "../../src/deploy/renderCompose.js"
import { placeholderOf, type Setting, SETTINGS } from "../../src/deploy/settings.js"
import { parsedConfig, refusal, render } from "./composeCli.js"
import { HASHES, NIPS, SECRETS, threeClients } from "./fixtures.js"

const rows: ReadonlyArray<Setting> = SETTINGS
const clientRows = rows.filter((s) => s.scope === "client")
const serverRows = rows.filter((s) => s.scope === "server")

/** docker-compose shows a literal `$` as `$$`. */
const unescape = (s: string) => s.replaceAll("$$", "$")

const environments = (out: string): Record<string, Record<string, string>> =>
  Object.fromEntries(
    Object.entries<any>(parsedConfig(out).services).map(([name, service]) => [name, service.environment ?? {}])
  )

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

describe("the settings table", () => {
  it("has one row per field, variable and placeholder, none taken by the fixed fields", () => {
    const fixed = ["id", "orgId", "port", "imageVersion", "appImage", "nbpImage", "bindAddress", "influxdb", "clients"]
    const fields = rows.map((s) => s.field)
    expect(new Set(fields).size).toBe(fields.length)
    for (const field of fixed) expect(fields).not.toContain(field)
    const variables = rows.map((s) => s.variable)
    expect(new Set(variables).size).toBe(variables.length)
    for (const v of variables) expect(v).toMatch(/^[A-Z][A-Z0-9_]*$/)
    const placeholders = rows.map(placeholderOf)
    expect(new Set(placeholders).size).toBe(placeholders.length)
    for (const p of ["CLIENT_ID", "CLIENT_ORG_ID", "CLIENT_PORT", "IMAGE_VERSION", "APP_IMAGE", "NBP_IMAGE", "BIND_ADDRESS"]) {
      expect(placeholders).not.toContain(p)
    }
    for (const s of rows) expect(s.rule, s.field).toMatch(/^must be [^\n]+$/)
  })

  it("is documented: the clients.json table of docs/operations.md names every field with its variable", () => {
    const doc = Fs.readFileSync("docs/operations.md", "utf8")
    for (const s of rows) {
      const key = s.scope === "client" ? `clients[].${s.field}` : s.field
      expect(doc, key).toMatch(new RegExp(`^\\| \`${escapeRegExp(key)}\` \\| [^|]+ \\| \`${s.variable}\` \\|`, "m"))
    }
  })

  it("is shown by the example: docs/clients.example.json sets every field at least once", () => {
    const example = JSON.parse(Fs.readFileSync("docs/clients.example.json", "utf8"))
    for (const s of serverRows) expect(Object.keys(example), s.field).toContain(s.field)
    for (const s of clientRows) {
      expect(example.clients.some((c: object) => s.field in c), s.field).toBe(true)
    }
  })
})

describe("compose render: the settings of clients.json", () => {
  it.effect("carries every setting into its client's environment, the reseller's into every client's", () =>
    Effect.gen(function*() {
      const input = threeClients()
      const { out, text } = yield* render(input)
      const env = environments(out)

      // The fixture's first client sets every client setting: each reaches its variable.
      const alpha = env["mai-alpha"]
      for (const s of clientRows) expect(Object.keys(alpha), s.variable).toContain(s.variable)
      expect(alpha.OPENROUTER_MANAGEMENT_KEY).toBe(SECRETS.alphaManagement)
      expect(alpha.OPENROUTER_API_KEY_HASH).toBe(`${HASHES.alpha1},${HASHES.alpha2}`)
      expect(alpha.OPENROUTER_WORKSPACE_ID).toBe("ws_alpha-01")
      expect(alpha.USAGE_MARKUP_EFFECTIVE_FROM).toBe("2025-11-01")
      expect(alpha.USAGE_MARKUP_MULTIPLIER).toBe("1.25")
      expect(alpha.CLIENT_NAME).toBe("Alpha sp. z o.o.")
      expect(alpha.CLIENT_NIP).toBe(NIPS.alpha)
      expect(alpha.CLIENT_ADDRESS).toBe("al. Jerozolimskie 100, 00-807 Warszawa")
      expect(alpha.INVOICE_LINES).toBe("month")
      expect(alpha.ALERT_WEBHOOK_URL).toBe("https://hooks.example.com/alpha/budget")
      expect(alpha.ALERT_WEBHOOK_SECRET).toBe(SECRETS.alphaAlertWebhook)
      expect(alpha.ALERT_EMAIL_TO).toBe("it@alpha.pl,finanse@alpha.pl")
      expect(alpha.ALERT_LANGUAGE).toBe("en")
      expect(alpha.BUDGET_ENFORCE).toBe("openrouter")

      // The second client's own values, awkward characters exactly as given; a hash as a string.
      const beta = env["mai-beta_2"]
      expect(unescape(beta.OPENROUTER_MANAGEMENT_KEY)).toBe(SECRETS.betaManagement)
      expect(beta.OPENROUTER_API_KEY_HASH).toBe(HASHES.beta)
      expect(unescape(beta.CLIENT_NAME)).toBe(input.clients[1].clientName)
      expect(beta.CLIENT_NIP).toBe(NIPS.beta)
      expect(beta.CLIENT_ADDRESS).toBe("ul. Długa 5/7 m. 2, 31-147 Kraków")

      // The reseller's identity: in every client, the same; not in the NBP service.
      for (const id of ["alpha", "beta_2", "3gamma"]) {
        expect(env[`mai-${id}`].RESELLER_NAME).toBe("Reseller \"Alfa\" sp. z o.o.")
        expect(env[`mai-${id}`].RESELLER_NIP).toBe(NIPS.reseller)
        expect(env[`mai-${id}`].RESELLER_ADDRESS).toBe("ul. Żółwia 3/5, 02-601 Warszawa")
        expect(env[`mai-${id}`].INVOICE_NUMBER_PATTERN).toBe("FV/{YYYY}/{MM}/{CLIENT}")
        expect(env[`mai-${id}`].INVOICE_VAT_RATE).toBe("23")
        expect(env[`mai-${id}`].SMTP_URL).toBe(SECRETS.smtpUrl)
        expect(env[`mai-${id}`].ALERT_EMAIL_FROM).toBe("alerts@reseller.pl")
      }
      expect(Object.keys(env["mai-nbp-service"]).filter((k) => k.startsWith("RESELLER_"))).toEqual([])

      // Each variable once per client, and the `# SETTINGS` line itself is gone.
      expect(text.match(/^ +OPENROUTER_MANAGEMENT_KEY: /gm)).toHaveLength(2)
      expect(text.match(/^ +RESELLER_NIP: /gm)).toHaveLength(3)
      expect(text).not.toContain(SETTINGS_LINE)
    }))

  it.effect("an absent setting leaves no line: the container uses its default", () =>
    Effect.gen(function*() {
      const input: any = threeClients()
      for (const s of serverRows) delete input[s.field]
      const { out, text } = yield* render(input)
      const env = environments(out)
      const gamma = Object.keys(env["mai-3gamma"])
      for (const s of rows) {
        if (s.field === "webhookSecret") continue // gamma's one setting
        expect(gamma, s.variable).not.toContain(s.variable)
      }
      expect(gamma).toContain("OPENROUTER_WEBHOOK_SECRET")
      for (const s of serverRows) expect(text).not.toContain(`${s.variable}:`)
      expect(Object.keys(env["mai-beta_2"])).not.toContain("OPENROUTER_WORKSPACE_ID")
      expect(Object.keys(env["mai-beta_2"])).not.toContain("USAGE_MARKUP_EFFECTIVE_FROM")
      expect(text).not.toMatch(/: ""$/m)
    }))

  describe("refuses, naming the field and its rule, never the value", () => {
    it.effect("a NIP with a wrong check digit, of a client or of the reseller", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[1].clientNip = "9512345674"
        expect(yield* refusal(clients)).toBe(`clients[1].clientNip must be ${NIP_RULE}`)
        const reseller = threeClients()
        reseller.resellerNip = "1234563219"
        expect(yield* refusal(reseller)).toBe(`resellerNip must be ${NIP_RULE}`)
      }))

    it.effect("a NIP that is not 10 plain digits, or whose sum is 10 modulo 11", () =>
      Effect.gen(function*() {
        for (const nip of ["1234567890", "951-234-56-75", "PL9512345675", "951234567", 9512345675, ""]) {
          const clients: any = threeClients()
          clients.clients[0].clientNip = nip
          expect(yield* refusal(clients)).toMatch(/^clients\[0\]\.clientNip must be a Polish NIP: 10 digits/)
        }
      }))

    it.effect("an invoice number pattern, VAT rate or line mode the app would refuse", () =>
      Effect.gen(function*() {
        for (const pattern of ["FV/{YYYY}/{CLIENT}", "{YYYY}/{MM}/{DD}", "FV/{YYYY}/{MM}\n", 2025]) {
          const clients: any = threeClients()
          clients.invoiceNumberPattern = pattern
          expect(yield* refusal(clients)).toMatch(/^invoiceNumberPattern must be one line of at most 128 characters holding \{YYYY\} and \{MM\}/)
        }
        for (const rate of [7, "22", "0 KR", "23%", ""]) {
          const clients: any = threeClients()
          clients.invoiceVatRate = rate
          expect(yield* refusal(clients)).toBe(
            "invoiceVatRate must be a VAT rate in per cent the invoice draft offers: 23, 8, 5 or 0, as a number or a string"
          )
        }
        const lines: any = threeClients()
        lines.clients[1].invoiceLines = "user"
        expect(yield* refusal(lines)).toBe(
          "clients[1].invoiceLines must be \"model\" (one invoice line per model) or \"month\" (one line for the month)"
        )
        const number: any = threeClients()
        number.invoiceVatRate = "8"
        const { out } = yield* render(number)
        expect(environments(out)["mai-alpha"].INVOICE_VAT_RATE).toBe("8")
      }))

    it.effect("a malformed or impossible markupEffectiveFrom", () =>
      Effect.gen(function*() {
        for (const day of ["2025-02-30", "2025-2-3", "01.11.2025", "2025-11-01T00:00:00Z", " 2025-11-01", "", 20251101]) {
          const clients: any = threeClients()
          clients.clients[0].markupEffectiveFrom = day
          expect(yield* refusal(clients)).toBe(
            "clients[0].markupEffectiveFrom must be a calendar day YYYY-MM-DD such as \"2025-11-01\" (a real day: not 2025-02-30)"
          )
        }
      }))

    it.effect("an address or name over several lines, saying it must be one line", () =>
      Effect.gen(function*() {
        const cases: Array<[string, (c: any) => void]> = [
          ["clients[1].clientAddress", (c) => (c.clients[1].clientAddress = "ul. Długa 5/7\n31-147 Kraków")],
          ["clients[1].clientAddress", (c) => (c.clients[1].clientAddress = "ul. Długa 5/7\r\n31-147 Kraków")],
          ["clients[1].clientAddress", (c) => (c.clients[1].clientAddress = "ul. Długa 5/7\u202831-147 Kraków")],
          ["clients[1].clientAddress", (c) => (c.clients[1].clientAddress = "ul. Długa 5/7\u008531-147 Kraków")],
          ["resellerAddress", (c) => (c.resellerAddress = "ul. Żółwia 3/5\n02-601 Warszawa")],
          ["clients[0].clientName", (c) => (c.clients[0].clientName = "Alpha\tsp. z o.o.")],
          ["clients[0].clientName", (c) => (c.clients[0].clientName = " Alpha sp. z o.o.")],
          ["resellerName", (c) => (c.resellerName = "")]
        ]
        for (const [where, edit] of cases) {
          const clients: any = threeClients()
          edit(clients)
          expect(yield* refusal(clients)).toMatch(
            new RegExp(`^${escapeRegExp(where)} must be one line of text without line breaks`)
          )
        }
        const address: any = threeClients()
        address.clients[0].clientAddress = "al. Jerozolimskie 100\n00-807 Warszawa"
        expect(yield* refusal(address)).toMatch(/write the address on one line, e\.g\. "ul\. Prosta 1, 00-001 Warszawa"$/)
      }))

    it.effect("key hashes that are not hex, or an empty list", () =>
      Effect.gen(function*() {
        const bad: Array<unknown> = [
          [],
          ["not-a-hash-0123456789"],
          [HASHES.alpha1, "xyz"],
          `${HASHES.alpha1}, ${HASHES.alpha2}`,
          `${HASHES.alpha1},`,
          "abc",
          42
        ]
        for (const hashes of bad) {
          const clients: any = threeClients()
          clients.clients[0].openrouterApiKeyHashes = hashes
          expect(yield* refusal(clients)).toMatch(
            /^clients\[0\]\.openrouterApiKeyHashes(\[\d\])? must be the client's key hashes as OpenRouter's keys API reports them/
          )
        }
      }))

    it.effect("a workspace id that is not one", () =>
      Effect.gen(function*() {
        const clients: any = threeClients()
        clients.clients[0].openrouterWorkspaceId = "ws alpha"
        expect(yield* refusal(clients)).toBe(
          "clients[0].openrouterWorkspaceId must be an OpenRouter workspace id: 1 to 128 letters, digits, '-' or '_'"
        )
      }))
  })

  describe("the management key is a secret", () => {
    it.effect("shared by two clients, or equal to another secret: refused without printing it", () =>
      Effect.gen(function*() {
        const shared = threeClients()
        shared.clients[1].openrouterManagementKey = SECRETS.alphaManagement
        expect(yield* refusal(shared)).toBe(
          "clients[1].openrouterManagementKey repeats the secret of clients[0].openrouterManagementKey: every secret must be unique"
        )
        const reused = threeClients()
        reused.clients[2].openrouterManagementKey = SECRETS.alphaOpenRouter
        expect(yield* refusal(reused)).toBe(
          "clients[2].openrouterManagementKey repeats the secret of clients[0].openrouterApiKey: every secret must be unique"
        )
      }))

    it.effect("still the example's REPLACE-… placeholder: refused, saying what leaving it out does", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[1].openrouterManagementKey = "sk-or-v1-REPLACE-with-a-management-key"
        expect(yield* refusal(clients)).toBe(
          "clients[1].openrouterManagementKey is still the example's REPLACE-… placeholder: put the real secret there, or leave the field out (then the reconciliation and the Broadcast destination check are off)"
        )
      }))

    it.effect("malformed: refused by its rule, without printing it", () =>
      Effect.gen(function*() {
        for (const key of [`${SECRETS.alphaManagement} x`, `${SECRETS.alphaManagement},${SECRETS.betaManagement}`, 12345]) {
          const clients: any = threeClients()
          clients.clients[0].openrouterManagementKey = key
          expect(yield* refusal(clients)).toBe(
            "clients[0].openrouterManagementKey must be printable ASCII without spaces or commas"
          )
        }
      }))

    it.effect("template syntax in it names the client and the field only", () =>
      Effect.gen(function*() {
        const clients = threeClients()
        clients.clients[1].openrouterManagementKey = "sk-or-v1-{{0123456789abcdef}}"
        const why = yield* refusal(clients)
        expect(why).toBe(
          "clients[1].openrouterManagementKey (client beta_2) contains \"{{\" or \"}}\", which the compose template reserves for its placeholders"
        )
        expect(why).not.toContain("0123456789abcdef")
      }))
  })
})
