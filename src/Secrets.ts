/**
 * Secrets and tokens: the shortest one accepted, the constant-time comparison every credential
 * check uses (webhook secrets, admin tokens, the NBP service's admin token), and the secrets
 * generated on first start and kept in DATA_DIR.
 */
import { Redacted } from "effect"
import * as Crypto from "node:crypto"

/**
 * The shortest secret or token accepted. A generated one is 64 characters; anything shorter than
 * this is a typo or a placeholder, and an empty one would make an empty header authentic.
 */
export const MIN_SECRET_LENGTH = 16

/** Secrets too short to be used are dropped, so that no run-time check can ever accept them. */
export const usableSecrets = <A extends Redacted.Redacted<string>>(secrets: ReadonlyArray<A>): ReadonlyArray<A> =>
  secrets.filter((s) => Redacted.value(s).length >= MIN_SECRET_LENGTH)

const digest = (s: string | Buffer) => Crypto.createHash("sha256").update(s).digest()

/**
 * Whether a presented credential is one of `secrets`. Both sides go through SHA-256 and
 * `timingSafeEqual`, against every secret every time, so the time depends neither on where the
 * strings differ, nor on their lengths, nor on which secret matched. An empty candidate never matches.
 */
export const secretMatcher = (secrets: ReadonlyArray<string>) => {
  const digests = secrets.map(digest)
  return (candidate: string): boolean => {
    if (candidate === "") return false
    const d = digest(candidate)
    let ok = false
    for (const s of digests) ok = Crypto.timingSafeEqual(d, s) || ok
    return ok
  }
}

/** `secretMatcher` over the usable ones of configured (redacted) secrets. */
export const configuredMatcher = (secrets: ReadonlyArray<Redacted.Redacted<string>>) =>
  secretMatcher(usableSecrets(secrets).map(Redacted.value))
