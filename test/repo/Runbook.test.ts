/** The operator's runbook for an NBP outage stays in one place with the facts it needs. */
import * as Fs from "node:fs"
import { expect, it } from "vitest"

it("docs/operations.md has one 'NBP is down' section: effects, signals, what to do", () => {
  const doc = Fs.readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8")
  expect(doc.match(/^## NBP is down$/gm)).toHaveLength(1)
  const section = doc.split(/^## NBP is down$/m)[1].split(/^## /m)[0]
  for (const fact of [
    "mai_nbp_fetch_failures_total", "mai_batch_last_success_timestamp_seconds", "every 15 minutes", "31 days",
    "mai-usage batch --run-now --date", "stale", "no usage needs no rate"
  ]) expect(section, fact).toContain(fact)
})
