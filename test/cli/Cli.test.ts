/**
 * The CLI as an operator meets it: `--help` of every command describes every option in plain text
 * when piped, colours only on a terminal without NO_COLOR, a missing option value named clearly,
 * and counts in the right number.
 */
import { Console, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { missingValue } from "../../src/cli/MissingValue.js"
import { cleanText, cliConsole, plural } from "../../src/cli/Output.js"
import { bareEnv, runCli } from "../support/process.js"
import { tempDir } from "../support/tmp.js"

const ESC = "\u001b"
const env = () => ({ ...bareEnv(), DATA_DIR: tempDir() })

/** Option blocks of a help text: a header line (`--date YYYY-MM-DD`) and its paragraphs. */
const optionBlocks = (help: string) => {
  const section = help.split(/^OPTIONS$/m)[1]?.split(/^COMMANDS$/m)[0] ?? ""
  const blocks: Array<{ header: string; text: Array<string> }> = []
  for (const line of section.split("\n")) {
    if (/^(--|\(-)/.test(line)) blocks.push({ header: line, text: [] })
    else if (line.trim() !== "" && blocks.length > 0) blocks[blocks.length - 1].text.push(line.trim())
  }
  return blocks
}

describe("mai-usage --help", () => {
  it("describes every command and every option, in plain text when piped", async () => {
    const root = await runCli(["--help"], env())
    expect(root.code).toBe(0)
    expect(root.stdout).not.toContain(ESC)
    expect(root.stdout).toMatch(/^DESCRIPTION\n\n\S.+/m)
    const commands = [...root.stdout.split(/^COMMANDS$/m)[1].matchAll(/^ {2}- (.+?)\s{2,}(.*)$/gm)]
    expect(commands.length).toBeGreaterThanOrEqual(4)
    for (const [, usage, description] of commands) expect(description, usage).toMatch(/\S{3,}/)

    const paths = commands.map(([, usage]) => usage.split(" ").filter((w) => /^[a-z][a-z-]*$/.test(w)).join(" "))
    // Each is a process of its own (the CLI through tsx): three at a time on a small machine.
    const helps: Array<Awaited<ReturnType<typeof runCli>>> = []
    for (let i = 0; i < paths.length; i += 3) {
      helps.push(...await Promise.all(paths.slice(i, i + 3).map((p) => runCli([...p.split(" "), "--help"], env()))))
    }
    helps.forEach((h, i) => {
      expect(h.code, paths[i]).toBe(0)
      expect(h.stdout, paths[i]).not.toContain(ESC)
      expect(h.stdout, paths[i]).not.toMatch(/A user-defined piece of text|A true or false value/)
      const blocks = optionBlocks(h.stdout)
      expect(blocks.length, paths[i]).toBeGreaterThan(0)
      for (const b of blocks) {
        const own = b.text.filter((t) => t !== "This setting is optional.")
        expect(own.length, `${paths[i]}: ${b.header} has no description`).toBeGreaterThan(0)
      }
    })
    const batch = helps[paths.indexOf("batch")].stdout
    expect(batch).toContain("--date YYYY-MM-DD")
    expect(batch).toMatch(/The Warsaw calendar day to summarise/)
  }, 300_000)

  it("says which option lacks its value (exit 2), instead of 'unknown argument'", async () => {
    const r = await runCli(["batch", "--run-now", "--date"], env())
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe("mai-usage: --date needs a value: --date YYYY-MM-DD")
    expect(r.stdout).toBe("")
    const options = new Map([["--date", "YYYY-MM-DD"], ["--out", "file"]])
    expect(missingValue(["batch", "--date", "--run-now"], options)).toMatch(/^--date needs a value/)
    expect(missingValue(["batch", "--date", "2025-10-01", "--run-now"], options)).toBeUndefined()
    expect(missingValue(["compose", "render", "--out"], options)).toBe("--out needs a value: --out file")
  })
})

describe("colours", () => {
  const coloured = `${ESC}[0;1mUSAGE${ESC}[0m`
  const printed = (policy: { stdoutIsTty: boolean; stderrIsTty: boolean; noColor: boolean }) => {
    const out: Array<unknown> = []
    const err: Array<unknown> = []
    const base = {
      log: (...a: Array<unknown>) => Effect.sync(() => void out.push(...a)),
      error: (...a: Array<unknown>) => Effect.sync(() => void err.push(...a)),
      unsafe: {}
    } as unknown as Console.Console
    const c = cliConsole(base, policy)
    Effect.runSync(Effect.zipRight(c.log(coloured), c.error(coloured)))
    return { out: out.join(""), err: err.join("") }
  }

  it("only on a terminal, and never with NO_COLOR", () => {
    expect(printed({ stdoutIsTty: true, stderrIsTty: true, noColor: false })).toEqual({ out: coloured, err: coloured })
    expect(printed({ stdoutIsTty: false, stderrIsTty: true, noColor: false })).toEqual({ out: "USAGE", err: coloured })
    expect(printed({ stdoutIsTty: true, stderrIsTty: true, noColor: true })).toEqual({ out: "USAGE", err: "USAGE" })
  })

  it("drops the library's generic type sentence but keeps our description", () => {
    expect(cleanText("--date YYYY-MM-DD\n\n  A user-defined piece of text.\n\n  The day\n", false)).toBe("--date YYYY-MM-DD\n\n  The day\n")
  })
})

describe("plurals", () => {
  it("1 row, 2 rows, 0 corrections", () => {
    expect(plural(1, "row")).toBe("1 row")
    expect(plural(2, "row")).toBe("2 rows")
    expect(plural(0, "correction")).toBe("0 corrections")
    expect(plural(1, "entry", "entries")).toBe("1 entry")
  })
})
