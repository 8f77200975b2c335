/**
 * The images, built and run with Podman (`npm run test:images`; not part of `npm test`).
 *
 * Builds a Node 24 bookworm base from Debian packages and npm's node binary, then both images
 * (test/images/build-base.sh), and runs them as a server would: on a private Podman network, the
 * NBP service against the NBP stand-in (on the host, at the network's gateway address) and one
 * client container `mai-<id>` against the NBP service, with a named volume `<id>_data`. Nothing
 * leaves loopback and the private network.
 *
 * Where Podman cannot run, the whole file is skipped with a banner on stderr; with
 * MAI_IMAGES_REQUIRED=1 (set by .ci/run) it fails instead.
 *
 * MAI_IMAGES_APP=<image> runs another app image in place of the one built (to see the test fail
 * for a broken variant, e.g. one running as root; docs/operations.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ADMIN_TOKEN, postWebhook, WEBHOOK_SECRET } from "../support/app.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { delivery } from "../support/otlp.js"
import { freePort } from "../support/process.js"
import * as Os from "node:os"
import { buildImages, type Images, inspect, logsOf, podman, podmanOk, podmanUnavailable, ULIMITS, waitHealthy } from "./podman.js"

const unavailable = await podmanUnavailable()
if (unavailable !== undefined) {
  const banner = `\n${"!".repeat(78)}\n!! IMAGE TESTS SKIPPED: ${unavailable}\n!! The images were NOT built or run.\n${"!".repeat(78)}\n`
  if (process.env.MAI_IMAGES_REQUIRED === "1") throw new Error(`MAI_IMAGES_REQUIRED=1 but ${unavailable}`)
  process.stderr.write(banner)
}

/** Compose's stop_grace_period for a client (docker-compose.template.yml). */
const GRACE_SECONDS = 30
/** A Warsaw day inside the NBP fixture (2016–2025); the rate is the previous business day's. */
const DAY = "2025-11-28"
const RATE_DAY = "2025-11-27"

const tag = randomBytes(3).toString("hex")
const id = `it${tag}` // the client id: container mai-<id>, volume <id>_data
const app = `mai-${id}`
const nbpName = `mai-nbp-service-${tag}`
const network = `mai-it-${tag}`
const volume = `${id}_data`

let images: Images
let standIn: NbpStandIn | undefined
let nbpAddress = ""
let appUrl = ""

const startApp = async () => {
  const port = await freePort()
  await podmanOk(
    "run", "--detach", "--name", app, "--network", network, ...ULIMITS,
    // No DNS on a CNI network without the dnsname plugin: the name compose would give the service.
    "--add-host", `mai-nbp-service:${nbpAddress}`,
    "--publish", `127.0.0.1:${port}:8080`,
    "--volume", `${volume}:/app/backend/data`,
    "--label", `mai.client.id=${id}`,
    "--env", `CLIENT_ORG_ID=org-${id}`,
    "--env", `OPENROUTER_EXTERNAL_USER=org-${id}`,
    "--env", `OPENROUTER_WEBHOOK_SECRET=${WEBHOOK_SECRET}`,
    "--env", `ADMIN_TOKEN=${ADMIN_TOKEN}`,
    "--env", "NBP_SERVICE_URL=http://mai-nbp-service:8001",
    "--env", "DAILY_BATCH_ENABLED=false",
    process.env.MAI_IMAGES_APP ?? images.app
  )
  appUrl = `http://127.0.0.1:${port}`
}

const daily = async () => {
  const res = await fetch(`${appUrl}/api/v1/usage/daily?from=${DAY}&to=${DAY}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
  })
  expect(res.status).toBe(200)
  const body: any = await res.json()
  return (Array.isArray(body) ? body : body.rows) as Array<Record<string, any>>
}

const ledgerCount = async () =>
  Number(await podmanOk("exec", app, "sqlite3", "-readonly", "/app/backend/data/usage_ledger.db", "select count(*) from ledger_events"))

const event = delivery({
  generationId: `gen-image-test-${tag}`,
  startNs: BigInt(Date.parse(`${DAY}T10:15:00Z`)) * 1_000_000n,
  user: "anna@example.pl",
  model: "openai/gpt-4o",
  cost: "0.125"
})

describe.skipIf(unavailable !== undefined)("the images under Podman", () => {
  beforeAll(async () => {
    images = await buildImages()
    process.stdout.write(`images built in ${images.buildSeconds.toFixed(0)} s (base ${images.base})\n`)
    await podmanOk("network", "create", network)
    // The network's bridge (and so its gateway address on the host) exists once a container joined it.
    await podmanOk("run", "--rm", "--network", network, ...ULIMITS, "--entrypoint", "/bin/true", images.nbp)
    const gateway = await podmanOk("network", "inspect", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}", network)
    standIn = await startNbpStandIn({ host: gateway, today: "2025-12-31" })
    await podmanOk("volume", "create", "--label", `mai.client.id=${id}`, "--label", "mai.backup.enabled=true", volume)
    await podmanOk(
      "run", "--detach", "--name", nbpName, "--network", network, ...ULIMITS,
      "--env", `NBP_API_URL=${standIn.url}`,
      images.nbp
    )
    nbpAddress = await inspect(nbpName, `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`)
    await startApp()
  }, 60 * 60_000)

  afterAll(async () => {
    if (unavailable !== undefined) return
    await podman("rm", "--force", "--time", "0", app)
    await podman("rm", "--force", "--time", "0", nbpName)
    await podman("volume", "rm", "--force", volume)
    await podman("network", "rm", "--force", network)
    await standIn?.close()
  }, 120_000)

  it("both health checks become healthy (the images' own HEALTHCHECK, no curl)", async () => {
    for (const [name, image] of [[nbpName, images.nbp], [app, images.app]]) {
      const check = await podmanOk("image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image)
      expect(check).toMatch(/"node","-e",.*\/health/)
      expect(await waitHealthy(name)).toBe("healthy")
    }
    // tini is PID 1 in both, with node as its child.
    for (const name of [nbpName, app]) {
      expect(await podmanOk("exec", name, "cat", "/proc/1/comm")).toBe("tini")
      // node runs with the memory settings of `npm start` (fewer malloc arenas, a small young generation).
      const child = "/proc/$(cut -d' ' -f1 /proc/1/task/1/children)"
      const cmdline = await podmanOk("exec", name, "sh", "-c", `tr '\\0' ' ' < ${child}/cmdline`)
      expect(cmdline).toMatch(/^node --max-semi-space-size=2 --max-old-space-size=128 --v8-pool-size=1 --no-maglev dist\/(bin|nbp)\.js/)
      const environ = await podmanOk("exec", name, "sh", "-c", `tr '\\0' '\\n' < ${child}/environ`)
      expect(environ.split("\n")).toEqual(expect.arrayContaining(["MALLOC_ARENA_MAX=2", "MALLOC_TRIM_THRESHOLD_=131072"]))
    }
  })

  it("a delivery to the published port is stored in the volume, written by the non-root user", async () => {
    const res = await postWebhook(appUrl, event)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ accepted: 1, duplicates: 0, ignored: 0 })
    expect(await ledgerCount()).toBe(1)

    const uid = Number(await podmanOk("exec", app, "id", "-u"))
    expect(uid).not.toBe(0)
    const mountpoint = await podmanOk("volume", "inspect", "--format", "{{.Mountpoint}}", volume)
    const files = Fs.readdirSync(mountpoint)
    expect(files).toContain("usage_ledger.db")
    for (const file of files) {
      expect({ file, uid: Fs.statSync(Path.join(mountpoint, file)).uid }).toEqual({ file, uid })
    }
    // The server process itself (not only `exec`) runs as that user.
    const serverUid = await podmanOk("exec", app, "sh", "-c", "awk '/^Uid:/{print $2}' /proc/$(cat /proc/1/task/1/children | cut -d' ' -f1)/status")
    expect(Number(serverUid)).toBe(uid)
  })

  it("`podman exec mai-<id> mai-usage batch --run-now --date …` writes a summary the API shows", async () => {
    const before = standIn!.requests()
    const r = await podman("exec", app, "mai-usage", "batch", "--run-now", "--date", DAY)
    expect({ code: r.code, stderr: r.stderr.slice(-500) }).toMatchObject({ code: 0 })
    // The rate came from the NBP stand-in through the NBP service container.
    expect(standIn!.requests()).toBeGreaterThan(before)
    const rows = await daily()
    expect(rows).toHaveLength(1)
    const mid = fixtureTables().find((t) => t.effectiveDate === RATE_DAY)!.mid
    expect(rows[0]).toMatchObject({ date: DAY, user: "anna@example.pl", requests: 1, rateDate: RATE_DAY, rate: mid })
  })

  it(`podman stop (SIGTERM) ends the app with exit 0 within its ${GRACE_SECONDS} s grace period`, async () => {
    const started = Date.now()
    await podmanOk("stop", "--time", String(GRACE_SECONDS), app)
    const seconds = (Date.now() - started) / 1000
    const exit = Number(await inspect(app, "{{.State.ExitCode}}"))
    expect({ exit, logs: exit === 0 ? "" : await logsOf(app) }).toEqual({ exit: 0, logs: "" })
    expect(seconds).toBeLessThan(GRACE_SECONDS - 5)
    process.stdout.write(`app stopped in ${seconds.toFixed(1)} s\n`)
  })

  it("a new container on the same volume still has the event and the summary", async () => {
    await podmanOk("rm", app)
    await startApp()
    await waitHealthy(app)
    expect(await ledgerCount()).toBe(1)
    expect((await daily()).map((r) => [r.date, r.user, r.requests])).toEqual([[DAY, "anna@example.pl", 1]])
    // The ledger still knows the delivery: sent again, it is a duplicate, not a second charge.
    const again = await postWebhook(appUrl, event)
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 1, ignored: 0 })
  })

  it("the console image shows the client container's month through its API, reached on the network as compose names it", async () => {
    const consoleName = `mai-console-${tag}`
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mai-console-it-"))
    try {
      // The compose service's way: the client by its service name on the network, its token from clients.json.
      const clientsFile = Path.join(dir, "clients.json")
      Fs.writeFileSync(clientsFile, JSON.stringify({ imageVersion: "test", clients: [{ id, orgId: `org-${id}`, port: 18080, adminToken: ADMIN_TOKEN }] }))
      Fs.chmodSync(dir, 0o755)
      Fs.chmodSync(clientsFile, 0o644)
      const appAddress = await inspect(app, `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`)
      const port = await freePort()
      const consoleToken = `console-token-${tag}-0123456789`
      await podmanOk(
        "run", "--detach", "--name", consoleName, "--network", network, ...ULIMITS,
        "--add-host", `${app}:${appAddress}`,
        "--publish", `127.0.0.1:${port}:8090`,
        "--volume", `${clientsFile}:/config/clients.json:ro`,
        "--env", "CONSOLE_CLIENTS_VIA=compose",
        "--env", `CONSOLE_ADMIN_TOKEN=${consoleToken}`,
        images.console
      )
      try {
        expect(await waitHealthy(consoleName)).toBe("healthy")
        expect(await podmanOk("exec", consoleName, "cat", "/proc/1/comm")).toBe("tini")
        expect(Number(await podmanOk("exec", consoleName, "id", "-u"))).not.toBe(0)
        const consoleUrl = `http://127.0.0.1:${port}`
        const fleet: any = await (await fetch(`${consoleUrl}/api/fleet?month=2025-11`, { headers: { authorization: `Bearer ${consoleToken}` } })).json()
        const own = await (await fetch(`${appUrl}/api/v1/admin/overview/2025-11`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()
        expect(fleet.rows).toHaveLength(1)
        expect(fleet.rows[0]).toMatchObject({ id, status: "ok", baseUrl: `http://${app}:8080`, overview: own })
        expect(fleet.totals.billedPln).toBe((own as any).billedPln)
        await podmanOk("stop", "--time", "15", consoleName)
        expect(Number(await inspect(consoleName, "{{.State.ExitCode}}"))).toBe(0)
        const logs = await podman("logs", consoleName)
        expect(logs.stdout + logs.stderr).toContain("registry loaded")
        expect(logs.stdout + logs.stderr).not.toContain(ADMIN_TOKEN)
      } finally {
        await podman("rm", "--force", "--time", "0", consoleName)
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("the NBP service also stops with exit 0 on SIGTERM; the images' sizes", async () => {
    await podmanOk("stop", "--time", "15", nbpName)
    expect(Number(await inspect(nbpName, "{{.State.ExitCode}}"))).toBe(0)
    for (const image of [images.base, images.app, images.nbp, images.console]) {
      const bytes = Number(await podmanOk("image", "inspect", "--format", "{{.Size}}", image))
      process.stdout.write(`image ${image}: ${(bytes / 1e6).toFixed(0)} MB\n`)
      expect(bytes).toBeGreaterThan(0)
    }
  })
})
