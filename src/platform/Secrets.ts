/**
 * Secrets and tokens: the shortest one accepted, the constant-time comparison every credential
 * check uses (webhook secrets, admin tokens, the NBP service's admin token), and the secrets
 * generated on first start and kept in DATA_DIR.
 */
import { Effect, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"

/**
 * The shortest secret or token accepted. A generated one is 64 characters; anything shorter than
 * this is a typo or a placeholder, and an empty one would make an empty header authentic.
 */
export const MIN_SECRET_LENGTH = 16

/** Secrets too short to be used are dropped, so that no run-time check can ever accept them. */
export const usableSecrets = <A extends Redacted.Redacted<string>>(secrets: ReadonlyArray<A>): ReadonlyArray<A> =>
  secrets.filter((s) => Redacted.value(s).length >= MIN_SECRET_LENGTH)

// One-shot hashing (no Hash object per call; Node 20.12 and later): every webhook request hashes
// its credential. Older Node 20 releases build the Hash object.
const digest: (s: string | Buffer) => Buffer = typeof Crypto.hash === "function"
  ? (s) => Crypto.hash("sha256", s, "buffer")
  : (s) => Crypto.createHash("sha256").update(s).digest()

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

/**
 * 256 random bits as 64 hex digits: nothing a shell, a header or a command line treats specially,
 * and never a leading `-` (base64url can start with one, which reads as an option).
 */
export const generateSecret = (): string => Crypto.randomBytes(32).toString("hex")

export interface KeptSecret {
  readonly secret: Redacted.Redacted<string>
  /** the value, only on the start that generated it (to be announced once) */
  readonly generated: string | undefined
}

/**
 * The secret kept in `dataDir/fileName` (mode 0600), or a new one generated and kept there on
 * first start. A kept file that holds no usable secret (empty, a lone newline) is regenerated.
 */
export const keptOrGenerated = (dataDir: string, fileName: string): Effect.Effect<KeptSecret> =>
  Effect.sync(() => {
    const file = Path.join(dataDir, fileName)
    const kept = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8").trim() : ""
    if (kept.length >= MIN_SECRET_LENGTH) return { secret: Redacted.make(kept), generated: undefined }
    const secret = generateSecret()
    Fs.writeFileSync(file, secret + "\n", { mode: 0o600 })
    Fs.chmodSync(file, 0o600)
    return { secret: Redacted.make(secret), generated: secret }
  })

/** Where the dashboard answers on this machine, from HOST and PORT. */
export const dashboardUrl = (host: string, port: number): string => {
  const h = host === "0.0.0.0" || host === "::" || host === "" ? "localhost" : host.includes(":") ? `[${host}]` : host
  return `http://${h}:${port}/`
}

/**
 * Generated secrets are announced once, on stdout, on the start that generated them, with where
 * to use them; later starts (and configured secrets) print nothing.
 */
export const announceGenerated = (options: {
  readonly dataDir: string
  readonly host: string
  readonly port: number
  readonly webhookSecret: KeptSecret | undefined
  readonly adminToken: KeptSecret | undefined
}): Effect.Effect<void> =>
  Effect.sync(() => {
    const { adminToken, dataDir, webhookSecret } = options
    const announced: Array<string> = []
    if (webhookSecret?.generated !== undefined) {
      announced.push(
        `OPENROUTER_WEBHOOK_SECRET was not set; generated one and kept it in ${dataDir}/webhook-secret.\n` +
          `In OpenRouter → Settings → Broadcast → Webhook, add this header:  Authorization: Bearer ${webhookSecret.generated}`
      )
    }
    if (adminToken?.generated !== undefined) {
      announced.push(`ADMIN_TOKEN was not set; generated one and kept it in ${dataDir}/admin-token:  ${adminToken.generated}`)
    }
    if (announced.length === 0) return
    announced.push(`Dashboard: ${dashboardUrl(options.host, options.port)} (log in with the admin token; API docs at /docs)`)
    process.stdout.write(announced.join("\n") + "\n")
  })
