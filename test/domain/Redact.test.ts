import { describe, expect, it } from "vitest"
import { maskUrl, maskUrlsIn } from "../../src/domain/Redact.js"
import { eachRowMaps } from "../support/textTable.js"

describe("URL credentials", () => {
  eachRowMaps("%s is shown as %s", maskUrl, [
    ["https://user:p/ss@host", "https://***@host"],
    ["https://user:p@ss:w@host:8086/x", "https://***@host:8086/x"],
    ["https://u:a/b?c#d@host", "https://***@host"],
    ["user:hunter2@host:8086", "***@host:8086"],
    ["https://host.example/db", "https://host.example/db"]
  ])

  it("are masked inside a log line, each URL on its own", () => {
    const line = JSON.stringify({ message: "write failed", url: "https://writer:p/ss@influx:8086/write", to: "anna@example.pl" })
    const masked = maskUrlsIn(line)
    expect(masked).not.toContain("p/ss")
    expect(masked).toContain("https://***@influx:8086/write")
    expect(masked).toContain("anna@example.pl")
  })
})
