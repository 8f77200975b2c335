/**
 * Webhook authentication: a bearer token, an `X-Webhook-Secret` header, or an
 * `X-Webhook-Signature: sha256=<hex HMAC of the raw body>`, against any configured secret.
 * Every comparison is constant-time: the headers through `secretMatcher` (Secrets.ts), the
 * signature through `timingSafeEqual` over HMACs under every secret.
 */
import { Redacted } from "effect"
import * as Crypto from "node:crypto"
import { secretMatcher, usableSecrets } from "../platform/Secrets.js"

export interface Authenticator {
  /** True when a static header carries a configured secret. */
  readonly headerMatches: (authorization: string | undefined, webhookSecret: string | undefined) => boolean
  /** True when `sha256=<hex>` is the HMAC of the body under a configured secret. */
  readonly signatureMatches: (signature: string, body: Buffer) => boolean
}

export const makeAuthenticator = (secrets: ReadonlyArray<Redacted.Redacted<string>>): Authenticator => {
  // A secret too short to be one (an empty file, a lone newline) never authenticates anything.
  const plain = usableSecrets(secrets).map(Redacted.value)
  const matchesAny = secretMatcher(plain)
  return {
    headerMatches: (authorization, webhookSecret) => {
      if (authorization !== undefined) {
        const m = /^Bearer\s+(.+)$/i.exec(authorization.trim())
        if (m !== null && matchesAny(m[1])) return true
      }
      return webhookSecret !== undefined && matchesAny(webhookSecret.trim())
    },
    signatureMatches: (signature, body) => {
      const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim())
      if (m === null) return false
      const given = Buffer.from(m[1].toLowerCase(), "hex")
      let ok = false
      for (const secret of plain) {
        ok = Crypto.timingSafeEqual(Crypto.createHmac("sha256", secret).update(body).digest(), given) || ok
      }
      return ok
    }
  }
}
