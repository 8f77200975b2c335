/** The app in-process beside the NBP stand-in, started before a test file's tests and stopped after them. */
import { afterAll, beforeAll } from "vitest"
import { startApp, type TestApp } from "./app.js"
import { type NbpStandIn, startNbpStandIn } from "./nbpStandIn.js"

export interface AppWithNbp {
  app: TestApp
  nbp: NbpStandIn
}

/** `today`: the stand-in's last published day; `vars` go over the app's test configuration. */
export const useAppWithNbp = (today = "2025-11-30", vars: Record<string, string> = {}): AppWithNbp => {
  const env = {} as AppWithNbp
  beforeAll(async () => {
    env.nbp = await startNbpStandIn({ today })
    env.app = await startApp({ NBP_API_URL: env.nbp.url, ...vars })
  })
  afterAll(async () => {
    await env.app?.close()
    await env.nbp?.close()
  })
  return env
}
