/**
 * The README's configuration table and `src/platform/Config.ts` name the same variables: a variable
 * read but not documented, or documented but never read, fails here. Each variable's documented
 * default is checked against what the configuration gives when it is unset.
 */
import * as Fs from "node:fs"
import { Effect, Either } from "effect"
import { formatDecimal } from "../../src/domain/Money.js"
import { describe, expect, it } from "vitest"
import { validate } from "../../src/platform/Config.js"
import { tempDir } from "../support/app.js"

const readme = Fs.readFileSync("README.md", "utf8")
const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## The webhook"))

/** `| \`A\` / \`B\` | defaults | meaning |` → the variables of the first column, with the row. */
const rows = table.split("\n").filter((l) => l.startsWith("| `")).map((line) => {
  const cells = line.split(" | ")
  return { names: [...cells[0].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]), defaults: cells[1] ?? "" }
})
const documented = new Set(rows.flatMap((r) => r.names))
const read = new Set(
  [...Fs.readFileSync("src/platform/Config.ts", "utf8").matchAll(/"([A-Z][A-Z0-9_]{2,})"/g)].map((m) => m[1])
)

describe("the README's configuration table", () => {
  it("documents every variable Config.ts reads, and no other", () => {
    expect([...read].filter((v) => !documented.has(v)).sort()).toEqual([])
    expect([...documented].filter((v) => !read.has(v)).sort()).toEqual([])
  })

  it("states the defaults the configuration gives", () => {
    const settings = Either.getOrThrow(Effect.runSync(validate({
      DATA_DIR: tempDir(),
      OPENROUTER_WEBHOOK_SECRET: "s".repeat(20),
      ADMIN_TOKEN: "a".repeat(20)
    })))
    const defaultOf = (name: string) => rows.find((r) => r.names.includes(name))!.defaults
    const given: Array<[string, string]> = [
      ["PORT", String(settings.port)],
      ["CLIENT_ORG_ID", settings.clientOrgId],
      ["LEDGER_SYNC", settings.ledgerSync],
      ["USAGE_MARKUP_MULTIPLIER", formatDecimal(settings.markup)],
      ["MAX_BODY_BYTES", String(settings.maxBodyBytes)],
      ["EXCHANGE_RATE_RULE", settings.exchangeRateRule],
      ["NBP_API_URL", settings.nbpApiUrl],
      ["DAILY_BATCH_TIMEZONE", settings.dailyBatchTimeZone],
      ["OPENROUTER_API_URL", settings.openRouter.apiUrl],
      ["INVOICE_NUMBER_PATTERN", settings.invoice.numberPattern],
      ["INVOICE_VAT_RATE", settings.invoice.vatRate],
      ["INVOICE_LINES", settings.invoice.lines]
    ]
    for (const [name, value] of given) expect(defaultOf(name), name).toContain(`\`${value}\``)
  })
})
