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
  gammaWebhook: "gamma-webhook-secret-77aa88bb99cc"
} as const

export const allSecrets = Object.values(SECRETS)

/** Three clients: one with everything set, one with awkward secrets, one with only the required fields. */
export const threeClients = () => ({
  imageVersion: "1.2.3",
  appImage: "registry.example.com/mai-usage",
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
      markup: 1.25
    },
    {
      id: "beta_2",
      orgId: "beta.org_2",
      port: 8102,
      webhookSecret: SECRETS.betaWebhook,
      adminToken: SECRETS.betaAdmin,
      markup: "1.3"
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
