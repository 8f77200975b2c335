/** A failure already explained to the operator on stderr, with the process exit code to use. */
export class ExitCode {
  readonly _tag = "ExitCode"
  constructor(readonly code: number) {}
}
