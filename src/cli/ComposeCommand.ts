import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { PlatformError } from "@effect/platform/Error"
import { Console, Effect, Either, Option } from "effect"
import { rootFilePath } from "../platform/Assets.js"
import { optional } from "./Commands.js"
import { plural } from "./Output.js"
import { parseClientsFile } from "../deploy/ClientsFile.js"
import { ComposeInputError, ComposeOutputError } from "../deploy/errors.js"
import { renderCompose } from "../deploy/renderCompose.js"

/** The template shipped with the code (repository root, also copied into the image). */
export const defaultTemplatePath = rootFilePath("docker-compose.template.yml")

const cannotRead = (what: string, path: string) => (error: PlatformError) =>
  new ComposeInputError({
    message: error._tag === "SystemError" && error.reason === "NotFound"
      ? `${what} ${path} does not exist`
      : `${what} ${path} cannot be read (${error._tag === "SystemError" ? error.reason : "bad argument"})`
  })

/**
 * Reads the clients file and the template, and renders the compose file text.
 * Fails with ComposeInputError carrying one line that names the file and the
 * problem, never a secret.
 */
export const renderFiles = (clientsPath: string, templatePath: string = defaultTemplatePath) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const clientsText = yield* fs.readFileString(clientsPath).pipe(Effect.mapError(cannotRead("clients file", clientsPath)))
    const clients = parseClientsFile(clientsText)
    if (Either.isLeft(clients)) return yield* new ComposeInputError({ message: `${clientsPath}: ${clients.left}` })
    const template = yield* fs.readFileString(templatePath).pipe(Effect.mapError(cannotRead("template", templatePath)))
    const rendered = renderCompose(template, clients.right, (yield* Path.Path).resolve(clientsPath))
    if (Either.isLeft(rendered)) return yield* new ComposeInputError({ message: `${templatePath}: ${rendered.left}` })
    return { text: rendered.right, clients: clients.right.clients.length }
  })

/**
 * Writes next to the target then renames, so a running `docker compose` never sees
 * half a file; mode 0600 because the file holds the clients' secrets.
 */
const writePrivately = (out: string, text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`)
    yield* fs.writeFileString(temp, text, { mode: 0o600 })
    yield* fs.chmod(temp, 0o600)
    yield* fs.rename(temp, out).pipe(Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore)))
  }).pipe(
    Effect.mapError((error) =>
      new ComposeOutputError({
        message: `cannot write ${out} (${error._tag === "SystemError" ? error.reason : "bad argument"})`
      })
    )
  )

const clientsOption = Options.file("clients").pipe(
  Options.withDescription("The clients file (JSON) listing the clients of this server; format in docs/operations.md")
)
const outOption = optional(
  Options.file("out"),
  "The compose file to write (mode 0600); without it the file, secrets included, goes to stdout"
)
const templateOption = optional(Options.file("template"), "The template to render (default: docker-compose.template.yml of this release)")

export const renderCommand = Command.make(
  "render",
  { clients: clientsOption, out: outOption, template: templateOption },
  ({ clients, out, template }) =>
    Effect.gen(function*() {
      const rendered = yield* renderFiles(clients, Option.getOrElse(template, () => defaultTemplatePath))
      if (Option.isNone(out)) {
        // Stdout carries the rendered file itself (for a pipe); nothing else is printed there.
        yield* Effect.sync(() => process.stdout.write(rendered.text))
        return
      }
      yield* writePrivately(out.value, rendered.text)
      yield* Console.error(`wrote ${out.value}: ${plural(rendered.clients, "client")} and one mai-nbp-service`)
    })
).pipe(Command.withDescription("Render docker-compose.template.yml for every client of this server"))

export const composeCommand = Command.make("compose").pipe(
  Command.withDescription("Deployment: render the docker-compose file for the clients of one server"),
  Command.withSubcommands([renderCommand])
)
