import { Schema } from "effect"

/**
 * The input of `compose render` (clients file, template) cannot be used.
 * The message is one line and never contains a secret value; the CLI maps this
 * error to exit code 2 (bad input).
 */
export class ComposeInputError extends Schema.TaggedError<ComposeInputError>()("ComposeInputError", {
  message: Schema.String
}) {}

/** The rendered file could not be written (exit code 1: the input was fine). */
export class ComposeOutputError extends Schema.TaggedError<ComposeOutputError>()("ComposeOutputError", {
  message: Schema.String
}) {}
