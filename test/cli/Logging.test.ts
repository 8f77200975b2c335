/** Log lines: one JSON object each, `message` a string, the fields beside it, secrets redacted. */
import { Cause, Effect, Logger, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { formatLine } from "../../src/platform/Logging.js"

const lines = (program: Effect.Effect<void>) => {
  const out: Array<string> = []
  const capture = Logger.make((options) => void out.push(formatLine(options)))
  Effect.runSync(program.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture))))
  return out
}

describe("JSON log lines", () => {
  it("have message as a string and the fields beside it", () => {
    const [line] = lines(
      Effect.logInfo("batch run succeeded", { day: "2025-10-28", rows: 2, secret: Redacted.make("hunter2") }).pipe(
        Effect.annotateLogs({ trigger: "cli" })
      )
    )
    expect(line).not.toContain("\n")
    const parsed = JSON.parse(line)
    expect(parsed).toMatchObject({ level: "INFO", message: "batch run succeeded", day: "2025-10-28", rows: 2, trigger: "cli" })
    expect(typeof parsed.timestamp).toBe("string")
    expect(line).not.toContain("hunter2")
  })

  it("put a failure's cause in `error`, one line, and never let a field replace the message", () => {
    const [line] = lines(Effect.logError("webhook crashed", { message: "field" }, Cause.fail(new Error("boom\nstack"))))
    const parsed = JSON.parse(line)
    expect(parsed.message).toBe("webhook crashed")
    expect(parsed.field_message).toBe("field")
    expect(parsed.error).toBe("Error: boom")
  })
})
