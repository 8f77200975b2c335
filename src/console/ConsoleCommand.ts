/**
 * `mai-usage console`: the reseller's console (port 8090) until SIGTERM/SIGINT. Its layers: the
 * settings, the registry (watched), the doors, the fleet (one in-flight limit and cache for the
 * process), the archives, the HTTP server.
 */
import * as Command from "@effect/cli/Command"
import { Layer } from "effect"
import { launchUntilStopped } from "../platform/Launch.js"
import { ConsoleAccess } from "./Access.js"
import { Archives } from "./Archive.js"
import { ConsoleConfig, readConsoleConfig } from "./ConsoleConfig.js"
import { Fleet } from "./Fleet.js"
import { Registry } from "./Registry.js"
import { ConsoleHttpLive } from "./Server.js"

export const ConsoleLive = ConsoleHttpLive.pipe(
  Layer.provide(Archives.Default),
  Layer.provideMerge(Fleet.Default),
  Layer.provideMerge(Layer.mergeAll(Registry.Default, ConsoleAccess.Default)),
  Layer.provideMerge(Layer.effect(ConsoleConfig, readConsoleConfig))
)

export const consoleCommand = Command.make("console", {}, () => launchUntilStopped(ConsoleLive, "console stopped")).pipe(
  Command.withDescription(
    "Run the reseller's console (port CONSOLE_PORT, default 8090): every client of CONSOLE_CLIENTS (clients.json) " +
      "on one page per month, closing months and downloading their documents, through each client's own API"
  )
)
