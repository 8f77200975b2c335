/** The handler of `OverviewApi`: `reporting/Overview.ts`'s month, for the reseller's console. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { MaiApi } from "../api/Api.js"
import { unavailable } from "../api/ApiErrors.js"
import { Overview } from "../reporting/Overview.js"

export const OverviewApiLive = HttpApiBuilder.group(MaiApi, "overview", (handlers) =>
  Effect.gen(function*() {
    const overview = yield* Overview
    return handlers.handle("month", ({ path }) => Effect.mapError(overview.month(path.month), unavailable))
  })).pipe(Layer.provide(Overview.Default))
