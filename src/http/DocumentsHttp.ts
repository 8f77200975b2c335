/** The handlers of `DocumentsApi`: billing's one statement, as PDF bytes or CSV text. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { MaiApi } from "../api/Api.js"
import { Unavailable, unavailable } from "../api/ApiErrors.js"
import { statementPdf } from "../billing/StatementPdf.js"
import { Statements } from "../billing/Statements.js"

export const DocumentsApiLive = HttpApiBuilder.group(MaiApi, "documents", (handlers) =>
  Effect.gen(function*() {
    const statements = yield* Statements
    const build = (month: string) => Effect.mapError(statements.build(month), unavailable)
    return handlers
      .handle("statementPdf", ({ path, urlParams }) =>
        Effect.flatMap(build(path.month), (statement) =>
          Effect.tryPromise({
            try: () => statementPdf(statements.document(statement, urlParams.lang ?? "pl")),
            catch: (e) => new Unavailable({ message: `the PDF could not be made: ${(e as Error).message}` })
          })))
      .handle("statementCsv", ({ path, urlParams }) =>
        Effect.map(build(path.month), (statement) => statements.csv(statement, urlParams.dialect, urlParams.lang ?? "en")))
  })).pipe(Layer.provide(Statements.Default))
