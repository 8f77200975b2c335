/** A table-driven test of a text → text function: one test per row, `f(input)` is the row's output. */
import { expect, it } from "vitest"

export const eachRowMaps = (
  title: string,
  f: (input: string) => string,
  rows: ReadonlyArray<readonly [input: string, output: string]>
) => it.each(rows)(title, (input, output) => expect(f(input)).toBe(output))
