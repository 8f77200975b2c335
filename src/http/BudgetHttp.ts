/** The handlers of `BudgetApi`: the same `BudgetAlerts` program as the CLI's `budget` commands. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Budgets } from "../api/BudgetApi.js"
import { MaiApi } from "../api/Api.js"
import { InvalidQuery, NotFound, unavailable } from "../api/ApiErrors.js"
import { BudgetAlerts } from "../alerts/Budgets.js"

export const BudgetApiLive = HttpApiBuilder.group(MaiApi, "budgets", (handlers) =>
  Effect.gen(function*() {
    const budgets = yield* BudgetAlerts
    const list = Effect.map(budgets.list, (bs) => new Budgets({ budgets: bs }))
    return handlers
      .handle("list", () => Effect.mapError(list, unavailable))
      .handle("set", ({ payload }) =>
        budgets.set(payload).pipe(
          Effect.mapError((e) => (e._tag === "BudgetInvalid" ? new InvalidQuery({ message: e.message }) : unavailable(e)))
        ))
      .handle("remove", ({ urlParams }) =>
        budgets.remove(urlParams.scope, urlParams.subject).pipe(
          Effect.zipRight(list),
          Effect.mapError((e) => (e._tag === "BudgetNotFound" ? new NotFound({ message: e.message }) : unavailable(e)))
        ))
      .handle("evaluate", ({ urlParams }) => Effect.mapError(budgets.evaluate(urlParams.month), unavailable))
      .handle("status", ({ urlParams }) => Effect.mapError(budgets.evaluate(urlParams.month, { record: false }), unavailable))
      .handle("alerts", ({ urlParams }) => Effect.mapError(budgets.alerts(urlParams.limit ?? 50), unavailable))
  }))
