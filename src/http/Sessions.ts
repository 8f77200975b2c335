/**
 * Dashboard sessions, kept on the server. The browser's cookie holds only a random session id
 * (never the admin token); the server keeps the session's times under the id's SHA-256, so the
 * session ends on the server when the user logs out or it expires (8 hours idle, 7 days after
 * login, whichever comes first).
 *
 * They live in this process's memory, not in the summary DB: a session is worth nothing after a
 * restart (a rotated ADMIN_TOKEN restarts the process, and must log everyone out anyway), nothing
 * of it ever reaches the disk, and the one server process of a container is the only reader.
 * Time comes from Effect's `Clock`, so tests move it with `TestClock`.
 */
import { Clock, Duration, Effect } from "effect"
import * as Crypto from "node:crypto"

export const IDLE_TIMEOUT = Duration.hours(8)
export const ABSOLUTE_TIMEOUT = Duration.days(7)
/** Enough for every browser of one client organisation; beyond it the oldest session ends. */
export const MAX_SESSIONS = 10_000

interface Entry {
  readonly createdAt: number
  lastSeenAt: number
}

export interface SessionsShape {
  /** Starts a session; the id is for the cookie and is not kept anywhere on the server. */
  readonly start: Effect.Effect<string>
  /** True while the session lives; each use counts as activity for the idle timeout. */
  readonly resume: (id: string) => Effect.Effect<boolean>
  /** Ends the session on the server: its cookie is refused from now on. */
  readonly end: (id: string) => Effect.Effect<void>
  readonly size: Effect.Effect<number>
}

const keyOf = (id: string) => Crypto.createHash("sha256").update(id).digest("base64url")

const idleMs = Duration.toMillis(IDLE_TIMEOUT)
const absoluteMs = Duration.toMillis(ABSOLUTE_TIMEOUT)

const expired = (e: Entry, now: number) => now - e.lastSeenAt >= idleMs || now - e.createdAt >= absoluteMs

export const makeSessions = (options: { readonly maxSessions?: number } = {}): SessionsShape => {
  const max = options.maxSessions ?? MAX_SESSIONS
  const entries = new Map<string, Entry>()

  const makeRoom = (now: number) => {
    if (entries.size < max) return
    for (const [k, e] of entries) if (expired(e, now)) entries.delete(k)
    // Still full: the oldest session (the Map keeps insertion order) makes way.
    while (entries.size >= max) entries.delete(entries.keys().next().value!)
  }

  return {
    start: Effect.map(Clock.currentTimeMillis, (now) => {
      makeRoom(now)
      const id = Crypto.randomBytes(32).toString("base64url")
      entries.set(keyOf(id), { createdAt: now, lastSeenAt: now })
      return id
    }),
    resume: (id) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (id === "") return false
        const key = keyOf(id)
        const entry = entries.get(key)
        if (entry === undefined) return false
        if (expired(entry, now)) {
          entries.delete(key)
          return false
        }
        entry.lastSeenAt = now
        return true
      }),
    end: (id) => Effect.sync(() => void entries.delete(keyOf(id))),
    size: Effect.sync(() => entries.size)
  }
}

export class Sessions extends Effect.Service<Sessions>()("mai-usage/Sessions", { sync: () => makeSessions() }) {}
