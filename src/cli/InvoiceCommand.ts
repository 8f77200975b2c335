/**
 * `mai-usage invoice draft YYYY-MM [--out FILE] [--issue-date YYYY-MM-DD]`: the FA(3) XML invoice
 * draft of a closed month, the same `Invoices` program as `GET /api/v1/invoices/YYYY-MM/fa3.xml`.
 * Without `--out` the XML alone goes to stdout (for a pipe); with it, the file is written and one
 * line of figures is printed. Nothing is sent to KSeF.
 * Exit 0 drafted, 1 refused (an open month, a party's NIP not configured…) or the summary DB
 * failed, 2 bad arguments or configuration.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Console, Effect, Layer, Option } from "effect"
import { issueDateProblem } from "../billing/InvoiceDraft.js"
import { InvoicesLive } from "../billing/BatchLive.js"
import { type InvoiceError, Invoices } from "../billing/Invoices.js"
import { isMonth } from "../domain/WarsawDay.js"
import * as Config from "../platform/Config.js"
import { ExitCode } from "../platform/ExitCode.js"
import { SummaryDbLive } from "../store/StoreLive.js"
import { commandGroup, optional, quietlyOver } from "./Commands.js"

const month = Args.text({ name: "YYYY-MM" }).pipe(Args.withDescription("the closed month to invoice, e.g. 2025-11"))
const out = optional(Options.file("out"), "the XML file to write; without it the XML goes to stdout")
const issueDate = optional(
  Options.text("issue-date"),
  "the issue date (P_1), YYYY-MM-DD, not before the month's last day; default: today in Warsaw"
)

/** Invoices over the summary DB only: no ledger, no server. */
const InvoicesCliLive = InvoicesLive.pipe(
  Layer.provideMerge(SummaryDbLive),
  Layer.provideMerge(Config.layer)
)

const fail = (code: number, line: string) => Effect.zipRight(Console.error(`invoice: ${line}`), Effect.fail(new ExitCode({ code })))

const refused = (e: InvoiceError) => fail(1, e.message)

/** Beside the target, then renamed: a reader never sees half a file. */
const write = (file: string, text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
    yield* fs.writeFileString(temp, text)
    yield* fs.rename(temp, file).pipe(Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore)))
  }).pipe(
    Effect.catchAll((error) => fail(1, `cannot write ${file} (${error._tag === "SystemError" ? error.reason : "bad argument"})`))
  )

const draft = Command.make("draft", { month, out, issueDate }, (args) =>
  Effect.gen(function*() {
    if (!isMonth(args.month)) return yield* fail(2, `invalid month ${JSON.stringify(args.month)}: expected YYYY-MM`)
    const date = Option.getOrUndefined(args.issueDate)
    const why = date === undefined ? undefined : issueDateProblem(args.month, date)
    if (why !== undefined) return yield* fail(2, `--issue-date: ${why}`)
    const invoices = yield* Invoices
    const d = yield* Effect.catchAll(invoices.draft(args.month, { issueDate: date }), refused)
    if (Option.isNone(args.out)) {
      // Stdout carries the XML itself; nothing else is printed there.
      yield* Effect.sync(() => process.stdout.write(d.xml))
      return
    }
    yield* write(args.out.value, d.xml)
    yield* Console.log(
      `${d.month}: FA(3) draft ${d.number} written to ${args.out.value}: net ${d.net} PLN, VAT ${d.vatRate}% ${d.vat} PLN, ` +
        `gross ${d.gross} PLN, ${d.lines.length} line(s), issued ${d.issueDate}; statement SHA-256 ${d.statementSha256}; ` +
        "nothing was sent to KSeF"
    )
  }).pipe(quietlyOver(InvoicesCliLive))).pipe(
    Command.withDescription(
      "Draft the FA(3) XML invoice of a closed month for KSeF (nothing is sent): the reseller as seller, the client " +
        "as buyer, one line per model (or per month), VAT at INVOICE_VAT_RATE; see docs/accounting.md"
    )
  )

export const invoiceCommand = commandGroup("invoice", "Invoices: the FA(3) XML draft of a closed month", [draft])
