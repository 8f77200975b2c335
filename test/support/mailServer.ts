/**
 * A real mail server for tests: OpenSMTPD (`smtpd` from Debian's `opensmtpd`) in the foreground,
 * its own configuration in a temp folder, listening on a free loopback port and delivering every
 * message (any recipient) into a Maildir the test reads. OpenSMTPD never delivers as root, so the
 * Maildir belongs to `nobody`. Stopped by its pid. Also a webhook receiver that checks each body's
 * `X-Mai-Signature`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Path from "node:path"
import { reachableByServiceUsers, tempDir } from "./tmp.js"
import { freePort } from "./process.js"
import { userIds } from "./openWebUi.js"

export interface MailServer {
  readonly url: string
  /** The messages delivered so far, decoded (headers unfolded, quoted-printable bodies decoded). */
  readonly messages: () => ReadonlyArray<{ readonly subject: string; readonly to: string; readonly body: string }>
  readonly stop: () => Promise<void>
}

const waitForPort = async (port: number, child: ChildProcess, log: () => string) => {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`smtpd exited (${child.exitCode}): ${log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = Net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)))
      s.on("error", () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`smtpd did not listen on ${port}: ${log()}`)
}

/** RFC 2047 encoded words (as nodemailer writes a Polish subject) into text. */
const decodeWords = (s: string) =>
  s.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === "B"
      ? Buffer.from(text, "base64").toString("utf8")
      : Buffer.from(text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"))

const decodeQp = (s: string) =>
  Buffer.from(s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8")

export const parseMessage = (raw: string) => {
  const split = raw.indexOf("\n\n") === -1 ? raw.indexOf("\r\n\r\n") : raw.indexOf("\n\n")
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, " ")
  const bodyRaw = raw.slice(split).trim()
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1] ?? ""
  const encoding = header("Content-Transfer-Encoding").toLowerCase()
  const body = encoding === "quoted-printable"
    ? decodeQp(bodyRaw)
    : encoding === "base64"
    ? Buffer.from(bodyRaw, "base64").toString("utf8")
    : bodyRaw
  return { subject: decodeWords(header("Subject")), to: header("To"), body }
}

export const startMailServer = async (): Promise<MailServer> => {
  const dir = tempDir("mai-usage-smtpd-")
  // smtpd checks its configuration's owner and mode; the Maildir's parent must be reachable by `nobody`.
  reachableByServiceUsers(dir)
  const maildir = Path.join(dir, "Maildir")
  Fs.mkdirSync(maildir)
  if (process.getuid?.() === 0) Fs.chownSync(maildir, userIds("nobody").uid, -1)
  const port = await freePort()
  const conf = Path.join(dir, "smtpd.conf")
  Fs.writeFileSync(
    conf,
    [
      `table catchall { "@" = "nobody" }`,
      `listen on 127.0.0.1 port ${port}`,
      `action "deliver" maildir "${maildir}" virtual <catchall>`,
      `match from any for any action "deliver"`,
      ""
    ].join("\n"),
    { mode: 0o600 }
  )
  let log = ""
  const child = spawn("smtpd", ["-d", "-f", conf], { stdio: ["ignore", "pipe", "pipe"] })
  child.stdout!.on("data", (d) => (log += d))
  child.stderr!.on("data", (d) => (log += d))
  await waitForPort(port, child, () => log)
  const messages = () =>
    ["new", "cur"].flatMap((sub) => {
      const p = Path.join(maildir, sub)
      return Fs.existsSync(p) ? Fs.readdirSync(p).sort().map((f) => parseMessage(Fs.readFileSync(Path.join(p, f), "utf8"))) : []
    })
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once("exit", r))
      process.kill(child.pid!, "SIGTERM")
      await exited
    }
  }
}

export interface WebhookReceiver {
  readonly url: string
  /** Bodies whose signature verified, parsed. */
  readonly received: Array<Record<string, any>>
  /** Requests refused because the signature did not verify. */
  readonly badSignatures: () => number
  /** Answer the next `n` requests with HTTP 500 (a failing channel). */
  readonly failNext: (n: number) => void
  readonly requests: () => number
  readonly close: () => Promise<void>
}

export const startWebhookReceiver = async (secret: string): Promise<WebhookReceiver> => {
  const received: Array<Record<string, any>> = []
  let bad = 0
  let failing = 0
  let requests = 0
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c) => chunks.push(c))
    req.on("end", () => {
      requests++
      const body = Buffer.concat(chunks)
      const expected = `sha256=${Crypto.createHmac("sha256", secret).update(body).digest("hex")}`
      const given = String(req.headers["x-mai-signature"] ?? "")
      if (given.length !== expected.length || !Crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
        bad++
        res.writeHead(401).end()
        return
      }
      if (failing > 0) {
        failing--
        res.writeHead(500).end("down")
        return
      }
      received.push(JSON.parse(body.toString("utf8")))
      res.writeHead(200, { "content-type": "text/plain" }).end("ok")
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as Net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hooks/budget`,
    received,
    badSignatures: () => bad,
    failNext: (n) => void (failing = n),
    requests: () => requests,
    close: () => new Promise((r) => server.close(() => r()))
  }
}
