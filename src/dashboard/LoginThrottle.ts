/**
 * Failed logins slowed per client address. The first `FREE_FAILURES` wrong tokens cost nothing;
 * the fifth locks the address for 30 seconds, and each further failure doubles the lock, up to
 * 15 minutes. While locked, every login from the address — right token or wrong — is answered
 * 429 with `Retry-After` and the token is not even looked at, so guessing gains nothing.
 * An address is forgotten an hour after its last failure, and a successful login clears it.
 *
 * The decision and the record of a failure happen in one synchronous step (`attempt`), so many
 * concurrent attempts cannot all slip past the gate before the first failure is counted.
 * Time is passed in (milliseconds), which keeps this a plain, testable object.
 */

export const FREE_FAILURES = 5
export const FIRST_LOCK_MS = 30_000
export const MAX_LOCK_MS = 15 * 60_000
export const FORGET_AFTER_MS = 60 * 60_000
/** Addresses remembered at once; past it the oldest is forgotten (memory stays bounded). */
export const MAX_ADDRESSES = 10_000

interface Record {
  failures: number
  lastFailureAt: number
  lockedUntil: number
}

export type Attempt =
  | { readonly _tag: "Accepted" }
  | { readonly _tag: "Refused"; readonly failures: number }
  | { readonly _tag: "Locked"; readonly retryAfterSeconds: number }

export const lockAfter = (failures: number): number =>
  failures < FREE_FAILURES ? 0 : Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_FAILURES))

export const makeLoginThrottle = (options: { readonly maxAddresses?: number } = {}) => {
  const max = options.maxAddresses ?? MAX_ADDRESSES
  const byAddress = new Map<string, Record>()

  const current = (address: string, now: number): Record | undefined => {
    const r = byAddress.get(address)
    if (r !== undefined && now - r.lastFailureAt >= FORGET_AFTER_MS && now >= r.lockedUntil) {
      byAddress.delete(address)
      return undefined
    }
    return r
  }

  const locked = (address: string, now: number): number | undefined => {
    const r = current(address, now)
    return r !== undefined && now < r.lockedUntil ? Math.ceil((r.lockedUntil - now) / 1000) : undefined
  }

  return {
    /** Seconds to wait when the address is locked now (checked before reading a body), else undefined. */
    locked,
    /** Gate, check and record in one step; `isValid` runs only when the address is not locked. */
    attempt: (address: string, now: number, isValid: () => boolean): Attempt => {
      const wait = locked(address, now)
      if (wait !== undefined) return { _tag: "Locked", retryAfterSeconds: wait }
      if (isValid()) {
        byAddress.delete(address)
        return { _tag: "Accepted" }
      }
      let r = current(address, now)
      if (r === undefined) {
        if (byAddress.size >= max) byAddress.delete(byAddress.keys().next().value!)
        r = { failures: 0, lastFailureAt: now, lockedUntil: 0 }
        byAddress.set(address, r)
      }
      r.failures += 1
      r.lastFailureAt = now
      const lock = lockAfter(r.failures)
      if (lock > 0) r.lockedUntil = now + lock
      return { _tag: "Refused", failures: r.failures }
    },
    size: () => byAddress.size
  }
}

export type LoginThrottle = ReturnType<typeof makeLoginThrottle>
