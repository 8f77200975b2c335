import { Schema } from "effect"

/** A failure already explained to the operator on stderr, with the process exit code to use. */
export class ExitCode extends Schema.TaggedError<ExitCode>()("ExitCode", { code: Schema.Int }) {}
