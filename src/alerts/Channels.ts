/**
 * Where a budget alert goes: a webhook (JSON with a Slack-compatible `text`, signed
 * `X-Mai-Signature: sha256=<hex HMAC-SHA256 of the body>` with ALERT_WEBHOOK_SECRET) and e-mail over
 * SMTP (nodemailer; SMTP_URL, ALERT_EMAIL_TO). One attempt each: retries and their records are the
 * dispatcher's (`Alerts.ts`). A failure is one line that names the cause, never a credential.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Redacted } from "effect"
import * as Crypto from "node:crypto"
import type * as Nodemailer from "nodemailer"
import { maskUrlsIn } from "../domain/Redact.js"
import type { AlertSettings } from "../platform/Config.js"
import { outboundClient, textRequest, unreachableReason } from "../platform/TextRequest.js"

export interface AlertMessage {
  /** one line for chat (Slack's `text`) and the e-mail's first paragraph */
  readonly text: string
  readonly subject: string
  /** the e-mail's further lines */
  readonly details: ReadonlyArray<string>
  /** the webhook's JSON beside `text` */
  readonly fields: Record<string, unknown>
}

export interface Channel {
  readonly name: "webhook" | "email"
  readonly send: (m: AlertMessage) => Effect.Effect<void, string>
}

export const signature = (secret: string, body: string) =>
  `sha256=${Crypto.createHmac("sha256", secret).update(body, "utf8").digest("hex")}`

const webhook = (url: string, secret: Redacted.Redacted<string>, client: HttpClient.HttpClient): Channel => ({
  name: "webhook",
  send: (m) => {
    const body = JSON.stringify({ text: m.text, ...m.fields })
    return textRequest(
      client,
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.bodyText(body, "application/json"),
        HttpClientRequest.setHeader("x-mai-signature", signature(Redacted.value(secret), body))
      ),
      { timeout: "10 seconds", onTimeout: () => "no answer within 10 s", onUnreachable: unreachableReason }
    ).pipe(
      Effect.flatMap((r) =>
        r.status >= 200 && r.status < 300 ? Effect.void : Effect.fail(`the webhook answered HTTP ${r.status}`)
      )
    )
  }
})

const email = (settings: AlertSettings, smtpUrl: Redacted.Redacted<string>): Channel => {
  // nodemailer is loaded with the first e-mail: a container that never sends one never holds it.
  let transport: Promise<Nodemailer.Transporter> | undefined
  const transporter = () =>
    (transport ??= import("nodemailer").then((m) => (m.default ?? m).createTransport(Redacted.value(smtpUrl))))
  return {
    name: "email",
    send: (m) =>
      Effect.tryPromise({
        try: () =>
          transporter().then((t) => t.sendMail({
            from: settings.emailFrom,
            to: [...settings.emailTo],
            subject: m.subject,
            text: [m.text, "", ...m.details].join("\n")
          })),
        // nodemailer's messages name the host and the SMTP reply; a URL's credentials are masked anyway.
        catch: (e) => maskUrlsIn(`SMTP: ${(e as Error).message ?? String(e)}`).split("\n")[0]
      }).pipe(Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "SMTP: no answer within 30 s" }), Effect.asVoid)
  }
}

/** The channels the settings configure (none: alerts are recorded and shown only). */
export const channelsOf = (settings: AlertSettings): Effect.Effect<ReadonlyArray<Channel>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const out: Array<Channel> = []
    if (settings.webhookUrl !== undefined && settings.webhookSecret !== undefined) {
      out.push(webhook(settings.webhookUrl, settings.webhookSecret, yield* outboundClient))
    }
    if (settings.smtpUrl !== undefined && settings.emailTo.length > 0) out.push(email(settings, settings.smtpUrl))
    return out
  })
