/** Clients files for the deploy tests, and the secrets they hold (which must never be printed). */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir as makeTempDir } from "../support/tmp.js"

export const SECRETS = {
  alphaWebhook: "alpha-webhook-secret-9f8e7d6c5b4a",
  alphaWebhookNext: "alpha-webhook-next-0a1b2c3d4e5f",
  alphaAdmin: "alpha-admin-token-1a2b3c4d5e6f",
  alphaOpenRouter: "sk-or-v1-alpha-0123456789abcdef",
  // `$` and `"` and `\` would break a naive template (compose interpolation, YAML quoting).
  betaWebhook: "beta$webhook\"secret\\with-odd-chars",
  betaAdmin: "beta-admin-token-$HOME-not-expanded",
  influxToken: "influx-token-Zm9vYmFyYmF6cXV4==",
  gammaWebhook: "gamma-webhook-secret-77aa88bb99cc",
  alphaManagement: "sk-or-v1-mgmt-alpha-5e4d3c2b1a09",
  betaManagement: "sk-or-v1-mgmt-beta-$x\\y-8f7e6d5c",
  alphaAlertWebhook: "alpha-alert-signing-secret-4c3b2a19",
  smtpUrl: "smtps://alerts%40reseller.pl:smtp-pass-7f6e5d4c@smtp.reseller.pl:465"
} as const

/** Valid NIPs (the checksum of src/domain/Nip.ts). */
export const NIPS = { reseller: "1234563218", alpha: "7010013284", beta: "9512345675" } as const

/** OpenRouter key hashes (SHA-256 hex) of the fixtures' keys. */
export const HASHES = {
  alpha1: "0f3c9a4e1b7d2c5a8e6f0b3d9c1a7e4f2b8d5c0a9e3f6b1d4c7a2e5f8b0d3c6a",
  alpha2: "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90",
  beta: "1111222233334444555566667777888899990000aaaabbbbccccddddeeeeffff"
} as const

export const allSecrets = Object.values(SECRETS)

/**
 * Three clients: one with everything set (every setting of src/deploy/settings.ts), one with
 * awkward secrets and texts, one with only the required fields; the reseller's identity at the top.
 */
export const threeClients = () => ({
  imageVersion: "1.2.3",
  appImage: "registry.example.com/mai-usage",
  resellerName: "Reseller \"Alfa\" sp. z o.o.",
  resellerNip: NIPS.reseller as string,
  resellerAddress: "ul. Żółwia 3/5, 02-601 Warszawa",
  invoiceNumberPattern: "FV/{YYYY}/{MM}/{CLIENT}",
  invoiceVatRate: 23 as number | string,
  smtpUrl: SECRETS.smtpUrl as string,
  alertEmailFrom: "alerts@reseller.pl",
  influxdb: {
    url: "https://eu-central-1-1.aws.cloud2.influxdata.com",
    token: SECRETS.influxToken,
    org: "reseller"
  },
  clients: [
    {
      id: "alpha",
      orgId: "alpha-sp-z-o-o",
      port: 8101,
      openrouterApiKey: SECRETS.alphaOpenRouter,
      webhookSecret: `${SECRETS.alphaWebhook},${SECRETS.alphaWebhookNext}`,
      adminToken: SECRETS.alphaAdmin,
      apiKeyNames: ["alpha-prod", "alpha-dev"],
      markup: 1.25,
      markupEffectiveFrom: "2025-11-01",
      openrouterManagementKey: SECRETS.alphaManagement as string,
      openrouterApiKeyHashes: [HASHES.alpha1, HASHES.alpha2] as Array<string> | string,
      openrouterWorkspaceId: "ws_alpha-01",
      clientName: "Alpha sp. z o.o.",
      clientNip: NIPS.alpha as string,
      clientAddress: "al. Jerozolimskie 100, 00-807 Warszawa",
      invoiceLines: "month",
      alertWebhookUrl: "https://hooks.example.com/alpha/budget",
      alertWebhookSecret: SECRETS.alphaAlertWebhook as string,
      alertEmailTo: ["it@alpha.pl", "finanse@alpha.pl"],
      alertLanguage: "en",
      budgetEnforce: "openrouter"
    },
    {
      id: "beta_2",
      orgId: "beta.org_2",
      port: 8102,
      webhookSecret: SECRETS.betaWebhook,
      adminToken: SECRETS.betaAdmin,
      markup: "1.3",
      openrouterManagementKey: SECRETS.betaManagement as string,
      openrouterApiKeyHashes: HASHES.beta as Array<string> | string,
      clientName: "Kancelaria „Beta” & Wspólnicy $HOME \\ sp.k.",
      clientNip: NIPS.beta as string,
      clientAddress: "ul. Długa 5/7 m. 2, 31-147 Kraków"
    },
    { id: "3gamma", orgId: "gamma", port: 8103, webhookSecret: SECRETS.gammaWebhook }
  ]
})

export type ClientsJson = ReturnType<typeof threeClients>

export const tempDir = () => makeTempDir("mai-deploy-test-")

export const writeJson = (dir: string, value: unknown, name = "clients.json") => {
  const file = Path.join(dir, name)
  Fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value, null, 2))
  return file
}
