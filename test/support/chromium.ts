/**
 * Headless Chromium from Debian's `chromium` package, driven by playwright-core. There is no
 * fallback: without /usr/bin/chromium the dashboard tests fail loudly (CI installs the package).
 */
import * as Fs from "node:fs"
import { type Browser, type BrowserContext, chromium, type Page, type Request } from "playwright-core"
import { ADMIN_TOKEN } from "./app.js"

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

export const launchChromium = async (): Promise<Browser> => {
  if (!Fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The dashboard tests need Debian's chromium package: ` +
        `apt-get install -y chromium`
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
}

export interface OfflineContext {
  readonly context: BrowserContext
  /** every request the pages made, in order */
  readonly requests: Array<string>
  /** requests to any origin other than the app's: aborted, and listed here */
  readonly blocked: Array<string>
}

/**
 * A browser context cut off from everything but the app: any request to another origin is
 * aborted (and recorded), as if the machine had no internet.
 */
export const offlineContext = async (
  browser: Browser,
  appUrl: string,
  options: {
    readonly viewport?: { width: number; height: number }
    /** other local origins the pages may reach (e.g. an attacker's page on another port) */
    readonly alsoAllow?: ReadonlyArray<string>
  } = {}
): Promise<OfflineContext> => {
  const origin = new URL(appUrl).origin
  const allowed = new Set([origin, ...(options.alsoAllow ?? []).map((u) => new URL(u).origin)])
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    locale: "en-GB",
    timezoneId: "Europe/Warsaw"
  })
  const requests: Array<string> = []
  const blocked: Array<string> = []
  context.on("request", (r: Request) => void requests.push(r.url()))
  await context.route("**/*", (route) => {
    const url = route.request().url()
    if (url.startsWith("data:") || allowed.has(new URL(url).origin)) return route.continue()
    blocked.push(url)
    return route.abort("internetdisconnected")
  })
  return { context, requests, blocked }
}

/**
 * A new page of `ctx` logged in through the dashboard's login form of the app at `appUrl`, once the
 * page has loaded. The form is found by its ids, whatever its language (Polish by default).
 */
export const loggedInPage = async (ctx: OfflineContext, appUrl: string, token = ADMIN_TOKEN): Promise<Page> => {
  const page = await ctx.context.newPage()
  await page.goto(appUrl + "/")
  await page.locator("#token").fill(token)
  await page.locator(`form[action^="/login"] button[type="submit"]`).click()
  await page.waitForLoadState("load")
  return page
}

export const screenshotDir = () => {
  const dir = new URL("../../test-output/", import.meta.url)
  Fs.mkdirSync(dir, { recursive: true })
  return dir.pathname
}
