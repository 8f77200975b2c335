/** CSV formula injection and the Polish Excel dialect. */
import { describe, expect, it } from "vitest"
import { headersOf, neutralise, toCsv } from "../../src/domain/Csv.js"
import { eachRowMaps } from "../support/textTable.js"

describe("formula guard", () => {
  eachRowMaps("%j → %j", neutralise, [
    ["=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"],
    ["+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1:A9)", "'@SUM(A1:A9)"],
    ["\tTAB", "'\tTAB"],
    ["\rCR", "'\rCR"],
    ["-0.50", "-0.50"],
    ["+5", "+5"],
    ["1e-3", "1e-3"],
    ["anna@example.pl", "anna@example.pl"]
  ])

  it("applies to every cell of every CSV", () => {
    const csv = toCsv(["user", "costUsd"], [{ user: "=1+1", costUsd: "-1.25" }, { user: "@x", costUsd: "2" }])
    expect(csv).toBe("user,costUsd\r\n'=1+1,-1.25\r\n'@x,2\r\n")
  })
})

describe("?dialect=excel-pl", () => {
  it("`;` separator, decimal comma in numbers (not in text), UTF-8 BOM, CRLF, guard kept", () => {
    const csv = toCsv(
      ["date", "user", "requests", "costUsd", "rate"],
      [{ date: "2025-10-07", user: "3.14", requests: 3, costUsd: "0.012345", rate: "3.6446; 3.6500" },
       { date: "2025-10-08", user: "a;b", requests: 1, costUsd: "-1.5", rate: "3.6" }],
      { dialect: "excel-pl", textColumns: ["date", "user"] }
    )
    expect(csv).toBe(
      "\uFEFFdate;user;requests;costUsd;rate\r\n" +
        "2025-10-07;3.14;3;0,012345;\"3,6446; 3,6500\"\r\n" +
        "2025-10-08;\"a;b\";1;-1,5;3,6\r\n"
    )
  })
})

describe("?lang=pl: Polish headers", () => {
  it("names the columns in Polish, the values unchanged, in both dialects; English names them as the JSON does", () => {
    const records = [{ date: "2025-10-07", user: "Łukasz", costUsd: "0.012345", costPln: "0.06" }]
    const columns = ["date", "user", "costUsd", "costPln"] as const
    expect(toCsv(columns, records, { headers: headersOf("pl") })).toBe("data,użytkownik,koszt_usd,kwota_pln\r\n2025-10-07,Łukasz,0.012345,0.06\r\n")
    expect(toCsv(columns, records, { dialect: "excel-pl", textColumns: ["date", "user"], headers: headersOf("pl") }))
      .toBe("\uFEFFdata;użytkownik;koszt_usd;kwota_pln\r\n2025-10-07;Łukasz;0,012345;0,06\r\n")
    expect(toCsv(columns, records, { headers: headersOf("en") })).toBe("date,user,costUsd,costPln\r\n2025-10-07,Łukasz,0.012345,0.06\r\n")
  })
})
