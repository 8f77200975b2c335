/** Session expiry on the server, with Effect's TestClock: 8 hours idle, 7 days after login. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { makeSessions } from "../../src/http/Sessions.js"
import { lockAfter, makeLoginThrottle } from "../../src/dashboard/LoginThrottle.js"

describe("sessions", () => {
  it.effect("end after 8 hours without activity", () =>
    Effect.gen(function*() {
      const sessions = makeSessions()
      const id = yield* sessions.start
      yield* TestClock.adjust("479 minutes")
      expect(yield* sessions.resume(id)).toBe(true) // activity: the idle clock starts again
      yield* TestClock.adjust("479 minutes")
      expect(yield* sessions.resume(id)).toBe(true)
      yield* TestClock.adjust("8 hours")
      expect(yield* sessions.resume(id)).toBe(false)
      expect(yield* sessions.size).toBe(0)
    }))

  it.effect("end 7 days after login however active", () =>
    Effect.gen(function*() {
      const sessions = makeSessions()
      const id = yield* sessions.start
      for (let h = 0; h < 7 * 24 - 1; h += 4) {
        yield* TestClock.adjust("4 hours")
        if (h < 7 * 24 - 5) expect(yield* sessions.resume(id)).toBe(true)
      }
      yield* TestClock.adjust("4 hours")
      expect(yield* sessions.resume(id)).toBe(false)
    }))

  it.effect("end on logout; unknown and empty ids are refused; the count is bounded", () =>
    Effect.gen(function*() {
      const sessions = makeSessions({ maxSessions: 3 })
      const a = yield* sessions.start
      expect(yield* sessions.resume(a)).toBe(true)
      yield* sessions.end(a)
      expect(yield* sessions.resume(a)).toBe(false)
      expect(yield* sessions.resume("")).toBe(false)
      expect(yield* sessions.resume("made-up")).toBe(false)
      const ids = yield* Effect.all([sessions.start, sessions.start, sessions.start, sessions.start])
      expect(yield* sessions.size).toBe(3)
      expect(yield* sessions.resume(ids[0])).toBe(false) // the oldest made way
      expect(yield* sessions.resume(ids[3])).toBe(true)
    }))
})

describe("login throttle", () => {
  it("locks after 5 failures, doubling from 30 s to at most 15 min; success clears it", () => {
    const t = makeLoginThrottle()
    const wrong = () => false
    for (let i = 1; i <= 4; i++) expect(t.attempt("a", 0, wrong)._tag).toBe("Refused")
    expect(t.locked("a", 0)).toBeUndefined()
    expect(t.attempt("a", 0, wrong)).toEqual({ _tag: "Refused", failures: 5 })
    expect(t.attempt("a", 1000, () => true)).toEqual({ _tag: "Locked", retryAfterSeconds: 29 })
    expect(t.locked("b", 0)).toBeUndefined() // per address
    expect(t.attempt("a", 30_000, wrong)).toEqual({ _tag: "Refused", failures: 6 })
    expect(t.locked("a", 30_000)).toBe(60)
    expect([5, 6, 7, 8, 9, 10, 20].map(lockAfter)).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000])
    expect(t.attempt("a", 90_000, () => true)._tag).toBe("Accepted")
    expect(t.size()).toBe(0)
  })
})
