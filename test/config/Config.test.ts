import { BigDecimal, Either, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it, vi } from "vitest"
import { validate } from "../../src/platform/Config.js"
import { dashboardUrl, generateSecret } from "../../src/platform/Secrets.js"
import { tempDir } from "../support/app.js"

const run = async (vars: Record<string, string>) => {
  const { Effect } = await import("effect")
  return Effect.runPromise(validate({ DATA_DIR: tempDir(), OPENROUTER_WEBHOOK_SECRET: "webhook-secret-0123456789", ADMIN_TOKEN: "admin-token-0123456789", ...vars }))
}

/** Start-up with `name=value` stops with one line naming the variable; that line. */
const refusal = async (name: string, value: string): Promise<string> => {
  const r = await run({ [name]: value })
  expect(Either.isLeft(r)).toBe(true)
  const message = Either.isLeft(r) ? r.left.message : ""
  expect(message.startsWith(`${name}:`)).toBe(true)
  expect(message).not.toContain("\n")
  return message
}

/** Validates with secrets generated: the one-time announcement is captured, never printed into test output. */
const quietly = async <A>(f: () => Promise<A>): Promise<A> => {
  const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true)
  try {
    return await f()
  } finally {
    spy.mockRestore()
  }
}

describe("configuration", () => {
  it("has the documented defaults", async () => {
    const r = await run({})
    const c = Either.getOrThrow(r)
    expect(c.port).toBe(8080)
    expect(c.host).toBe("0.0.0.0")
    expect(c.clientOrgId).toBe("default")
    expect(c.influx).toBeUndefined()
    expect(c.nbpApiUrl).toBe("https://api.nbp.pl/api/exchangerates/rates/a/usd/")
    expect(c.dailyBatchTime).toEqual({ hour: 13, minute: 0 })
    expect(c.dailyBatchTimeZone).toBe("Europe/Warsaw")
    expect(BigDecimal.format(c.markup)).toBe("1.3")
    expect(c.exchangeRateRule).toBe("previous-business-day")
    expect(c.maxBodyBytes).toBe(33_554_432)
    expect(c.ledgerDbPath).toBe(Path.join(c.dataDir, "usage_ledger.db"))
  })

  it("reads the invoice draft's parties and options; the buyer's name defaults to the org id", async () => {
    const defaults = Either.getOrThrow(await run({ CLIENT_ORG_ID: "acme" })).invoice
    expect(defaults).toEqual({
      resellerName: undefined,
      resellerNip: undefined,
      resellerAddress: undefined,
      clientName: "acme",
      clientNip: undefined,
      clientAddress: undefined,
      numberPattern: "{YYYY}/{MM}/{CLIENT}",
      vatRate: "23",
      lines: "model"
    })
    const set = Either.getOrThrow(await run({
      RESELLER_NAME: " Reseller sp. z o.o. ",
      RESELLER_NIP: "1234563218",
      RESELLER_ADDRESS: "ul. Prosta 1, 00-001 Warszawa",
      CLIENT_NAME: "ACME sp. z o.o.",
      CLIENT_NIP: " 7010013284",
      CLIENT_ADDRESS: "",
      INVOICE_NUMBER_PATTERN: "FV/{MM}/{YYYY}",
      INVOICE_VAT_RATE: "8",
      INVOICE_LINES: "Month"
    })).invoice
    expect(set).toEqual({
      resellerName: "Reseller sp. z o.o.",
      resellerNip: "1234563218",
      resellerAddress: "ul. Prosta 1, 00-001 Warszawa",
      clientName: "ACME sp. z o.o.",
      clientNip: "7010013284",
      clientAddress: undefined,
      numberPattern: "FV/{MM}/{YYYY}",
      vatRate: "8",
      lines: "month"
    })
  })

  it("names the NIP's rule when its check digit is wrong", async () => {
    expect(await refusal("RESELLER_NIP", "1234563219")).toMatch(/^RESELLER_NIP: must be a Polish NIP: 10 digits .*6,5,7,2,3,4,5,6,7/)
  })

  it("reads InfluxDB settings, sqlite:/// paths and secret lists", async () => {
    const c = Either.getOrThrow(await run({
      INFLUXDB_URL: "https://eu-central-1-1.aws.cloud2.influxdata.com/",
      INFLUXDB_TOKEN: "tok",
      INFLUXDB_API: "v1",
      USAGE_LEDGER_DB: "sqlite:////var/lib/x/ledger.db",
      USAGE_SUMMARY_DB: "sqlite:///data/summary.db",
      OPENROUTER_WEBHOOK_SECRET: "new-secret-0123456789, old-secret-0123456789",
      OPENROUTER_API_KEY_NAMES: "prod,dev"
    }))
    expect(c.influx?.url).toBe("https://eu-central-1-1.aws.cloud2.influxdata.com")
    expect(c.influx?.api).toBe("v1")
    expect(c.influx?.bucket).toBe("mai-usage-tracking")
    expect(c.ledgerDbPath).toBe("/var/lib/x/ledger.db")
    expect(c.summaryDbPath).toBe(Path.resolve("data/summary.db"))
    expect(c.webhookSecrets.map(Redacted.value)).toEqual(["new-secret-0123456789", "old-secret-0123456789"])
    expect([...c.apiKeyNames!]).toEqual(["prod", "dev"])
    // Secrets print as redacted.
    expect(String(c.influx?.token)).not.toContain("tok")
  })

  it.each([
    ["PORT", "eighty"],
    ["DAILY_BATCH_TIME", "1pm"],
    ["DAILY_BATCH_TIME", "24:00"],
    ["DAILY_BATCH_TIMEZONE", "Europe/Warszawa"],
    ["USAGE_MARKUP_MULTIPLIER", "-1"],
    ["USAGE_MARKUP_MULTIPLIER", "abc"],
    ["EXCHANGE_RATE_RULE", "yesterday"],
    ["INFLUXDB_API", "v3"],
    ["INFLUXDB_URL", "ftp://x"],
    ["NBP_SERVICE_URL", "::"],
    ["MAX_BODY_BYTES", "0"],
    ["LEDGER_SYNC", "off"],
    ["DAILY_BATCH_ENABLED", "maybe"],
    ["USAGE_SUMMARY_DB", "postgres://x"],
    // Org ids that an InfluxDB tag, a cookie name or a file name could not keep apart.
    ["CLIENT_ORG_ID", "tenant\\"],
    ["CLIENT_ORG_ID", "tenant\\\u2060"],
    ["CLIENT_ORG_ID", "acme sp. z o.o."],
    ["CLIENT_ORG_ID", "-leading-dash"],
    ["CLIENT_ORG_ID", "x".repeat(65)],
    // The FA(3) invoice draft's parties and options.
    ["RESELLER_NIP", "1234563219"],
    ["CLIENT_NIP", "951-234-56-75"],
    ["CLIENT_NIP", "0000000000"],
    ["RESELLER_NAME", "Reseller\nsp. z o.o."],
    ["CLIENT_ADDRESS", "x".repeat(513)],
    ["INVOICE_VAT_RATE", "7"],
    ["INVOICE_VAT_RATE", "zw"],
    ["INVOICE_VAT_RATE", "23%"],
    ["INVOICE_LINES", "user"],
    ["INVOICE_NUMBER_PATTERN", "FV/{YYYY}/{CLIENT}"],
    ["INVOICE_NUMBER_PATTERN", "{YYYY}/{MM}/{DD}"]
  ])("refuses %s=%s with a message naming the variable", async (name, value) => {
    await refusal(name, value)
  })

  it("never shows credentials that are part of a URL", async () => {
    const r = await run({ INFLUXDB_URL: "gopher://admin:hunter2@influx.local" })
    expect(Either.isLeft(r) && r.left.message).not.toContain("hunter2")
  })

  it("generates the webhook secret and admin token once, mode 0600, and keeps them", async () => {
    const dir = tempDir()
    const { Effect } = await import("effect")
    const first = Either.getOrThrow(await quietly(() => Effect.runPromise(validate({ DATA_DIR: dir }))))
    const second = Either.getOrThrow(await quietly(() => Effect.runPromise(validate({ DATA_DIR: dir }))))
    expect(Redacted.value(first.webhookSecrets[0])).toMatch(/^[0-9a-f]{64}$/)
    expect(Redacted.value(first.adminTokens[0])).toMatch(/^[0-9a-f]{64}$/)
    expect(second.webhookSecrets.map(Redacted.value)).toEqual(first.webhookSecrets.map(Redacted.value))
    expect(second.adminTokens.map(Redacted.value)).toEqual(first.adminTokens.map(Redacted.value))
    expect(Fs.statSync(Path.join(dir, "webhook-secret")).mode & 0o777).toBe(0o600)
  })

  it("generated secrets never start with '-' (they are pasted as command-line arguments)", () => {
    for (let i = 0; i < 2000; i++) expect(generateSecret()).toMatch(/^[0-9a-f]{64}$/)
  })

  it("announces the generated secrets once, with where the dashboard is", async () => {
    const { Effect } = await import("effect")
    const printed: Array<string> = []
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => (printed.push(String(chunk)), true))
    try {
      const dir = tempDir()
      await Effect.runPromise(validate({ DATA_DIR: dir, PORT: "8080", HOST: "0.0.0.0" }))
      await Effect.runPromise(validate({ DATA_DIR: dir, PORT: "8080", HOST: "0.0.0.0" }))
      await Effect.runPromise(validate({ DATA_DIR: tempDir(), PORT: "9090", HOST: "10.1.2.3" }))
    } finally {
      spy.mockRestore()
    }
    expect(printed).toHaveLength(2)
    expect(printed[0]).toMatch(/Authorization: Bearer [0-9a-f]{64}\n/)
    expect(printed[0]).toMatch(/ADMIN_TOKEN was not set; generated one .*:  [0-9a-f]{64}\n/)
    expect(printed[0]).toMatch(/\nDashboard: http:\/\/localhost:8080\/ /)
    expect(printed[1]).toMatch(/\nDashboard: http:\/\/10\.1\.2\.3:9090\/ /)
    expect(dashboardUrl("::1", 8080)).toBe("http://[::1]:8080/")
  })
})

describe("secrets too short to be secrets", () => {
  it.each([
    ["ADMIN_TOKEN", "short"],
    ["ADMIN_TOKEN", "long-enough-token-0123456789,short"],
    ["OPENROUTER_WEBHOOK_SECRET", "x"],
    ["OPENROUTER_WEBHOOK_SECRET", ","]
  ])("a configured %s=%j stops start-up with one line naming it, never the value", async (name, value) => {
    const message = await refusal(name, value)
    if (value !== ",") expect(message).not.toContain(value.split(",").at(-1))
  })

  it("a kept secret file holding only a newline is regenerated, never used", async () => {
    const dir = tempDir()
    Fs.writeFileSync(Path.join(dir, "webhook-secret"), "\n")
    Fs.writeFileSync(Path.join(dir, "admin-token"), "   \n")
    const { Effect } = await import("effect")
    const c = Either.getOrThrow(await quietly(() => Effect.runPromise(validate({ DATA_DIR: dir }))))
    expect(Redacted.value(c.webhookSecrets[0]).length).toBeGreaterThanOrEqual(16)
    expect(Redacted.value(c.adminTokens[0]).length).toBeGreaterThanOrEqual(16)
    expect(Fs.readFileSync(Path.join(dir, "webhook-secret"), "utf8").trim()).toBe(Redacted.value(c.webhookSecrets[0]))
  })

  it.each([
    "https://user:p/ss@influx.example",
    "https://user:p@ss:w/rd@influx.example",
    "user:hunter2@influx.example"
  ])("INFLUXDB_URL=%s: the error masks the credentials", async (value) => {
    const r = await run({ INFLUXDB_URL: value })
    expect(Either.isLeft(r)).toBe(true)
    const message = Either.isLeft(r) ? r.left.message : ""
    expect(message).toMatch(/^INFLUXDB_URL: /)
    for (const secret of ["p/ss", "ss:w", "hunter2", "user"]) expect(message).not.toContain(secret)
  })
})

describe("budget alerts and enforcement", () => {
  const left = async (vars: Record<string, string>) => {
    const r = await run(vars)
    return Either.isLeft(r) ? r.left.message : "accepted"
  }
  it("reads the channels, Polish by default, the SMTP URL kept secret", async () => {
    const r = Either.getOrThrow(await run({
      ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
      ALERT_WEBHOOK_SECRET: "alert-secret-0123456789",
      SMTP_URL: "smtps://user:smtp-password-1@mail.example.pl:465",
      ALERT_EMAIL_TO: "a@example.pl, b@example.pl"
    }))
    expect(r.alerts).toMatchObject({ webhookUrl: "https://hooks.example.com/x", emailTo: ["a@example.pl", "b@example.pl"], language: "pl", enforce: false })
    expect(String(r.alerts.smtpUrl)).not.toContain("smtp-password-1")
    expect(Redacted.value(r.alerts.smtpUrl!)).toBe("smtps://user:smtp-password-1@mail.example.pl:465")
  })
  it("refuses what cannot work, naming the variable, never a password", async () => {
    expect(await left({ ALERT_WEBHOOK_URL: "https://hooks.example.com/x" })).toBe("ALERT_WEBHOOK_SECRET: required with ALERT_WEBHOOK_URL (it signs each alert)")
    expect(await left({ SMTP_URL: "smtp://mail.example.pl:25" })).toBe("ALERT_EMAIL_TO: required with SMTP_URL (who receives the alerts)")
    expect(await left({ BUDGET_ENFORCE: "openrouter" })).toBe("BUDGET_ENFORCE: openrouter needs OPENROUTER_MANAGEMENT_KEY (it sets the keys' limits)")
    const smtp = await refusal("SMTP_URL", "http://user:secret-pw-9@mail.example.pl")
    expect(smtp).toContain("expected smtp://host:port")
    expect(smtp).not.toContain("secret-pw-9")
    expect(await refusal("ALERT_EMAIL_TO", "not-an-address")).toContain("expected e-mail addresses")
    expect(await refusal("ALERT_LANGUAGE", "de")).toContain("expected pl or en")
  })
})
