/** The NBP service's environment, read and validated once. */
import { Config, Duration, Redacted } from "effect"

/** The shortest NBP_ADMIN_TOKEN accepted (the app's secrets have the same minimum). */
export const MIN_ADMIN_TOKEN_LENGTH = 16

export interface NbpServiceConfig {
  readonly port: number
  readonly host: string
  readonly apiUrl: string
  readonly fetchInterval: Duration.Duration
  readonly cacheTtl: Duration.Duration
  /** unset or empty: POST /api/cache/clear answers 403 */
  readonly adminToken: Redacted.Redacted | undefined
}

const seconds = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be a positive number of seconds`, validation: (n) => n > 0 }),
    Config.map(Duration.seconds)
  )

export const nbpServiceConfig: Config.Config<NbpServiceConfig> = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(8001)),
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  apiUrl: Config.url("NBP_API_URL").pipe(
    Config.map((url) => url.toString()),
    Config.withDefault("https://api.nbp.pl/api/exchangerates/rates/a/usd/")
  ),
  fetchInterval: seconds("FETCH_INTERVAL", 3600),
  cacheTtl: seconds("CACHE_TTL", 7200),
  // Set but empty means "no token": cache clearing stays disabled, never open to an empty bearer.
  adminToken: Config.string("NBP_ADMIN_TOKEN").pipe(
    Config.withDefault(""),
    Config.map((token) => token.trim()),
    Config.validate({
      message: `NBP_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (or unset, which disables cache clearing)`,
      validation: (token) => token === "" || token.length >= MIN_ADMIN_TOKEN_LENGTH
    }),
    Config.map((token) => (token === "" ? undefined : Redacted.make(token)))
  )
})
