/** `npm run nbp`: the shared NBP rate service, configured from the environment. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { JsonLogger } from "../src/platform/Logging.js"
import { nbpServiceConfig } from "./Config.js"
import * as Server from "./Server.js"

const NbpService = Layer.unwrapEffect(Effect.map(nbpServiceConfig, Server.layer))

Layer.launch(NbpService).pipe(
  // report start-up failures (a bad variable) as a JSON log line too
  Effect.tapErrorCause((cause) => Effect.logError("NBP service stopped", cause)),
  Effect.provide(JsonLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true, disableErrorReporting: true })
)
