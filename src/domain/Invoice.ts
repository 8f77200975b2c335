/**
 * The rules of the FA(3) invoice draft that the configuration, the compose renderer and billing
 * share: the VAT rates offered, the line modes, the invoice number pattern and the one-line text
 * an invoice field holds. The draft itself is built in `billing/InvoiceDraft.ts`.
 */

/**
 * The VAT rates (per cent) a draft may use. FA(3)'s `P_12` enumeration (`TStawkaPodatku`) has
 * 23, 22, 8, 7, 5, 4, 3, "0 KR", "0 WDT", "0 EX", "zw", "oo", "np I", "np II": 23, 8 and 5 are
 * today's domestic rates, and 0 is written as "0 KR" (0 % on a domestic sale, not an
 * intra-Community supply or an export). 22 and 7 are the older rates, 4 and 3 the taxi lump sums:
 * none applies to this service.
 */
export const VAT_RATES = ["23", "8", "5", "0"] as const
export type VatRate = (typeof VAT_RATES)[number]

/** `model`: one invoice line per model; `month`: one line for the whole month. */
export const INVOICE_LINE_MODES = ["model", "month"] as const
export type InvoiceLineMode = (typeof INVOICE_LINE_MODES)[number]

export const DEFAULT_NUMBER_PATTERN = "{YYYY}/{MM}/{CLIENT}"
export const NUMBER_PLACEHOLDERS = ["{YYYY}", "{MM}", "{CLIENT}"] as const

export const NUMBER_PATTERN_RULE =
  "one line of at most 128 characters holding {YYYY} and {MM} (so that each month's number differs); " +
  "the placeholders are {YYYY}, {MM} and {CLIENT} (the client organisation id)"

/** Characters XML 1.0 cannot carry, and the line breaks and tabs an invoice field must not hold. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** One printable line: no control character, line break, BOM, noncharacter or lone surrogate. */
export const isOneLine = (text: string): boolean => !CONTROL.test(text)

/** Why a number pattern cannot be used, or undefined when it can. */
export const numberPatternProblem = (pattern: string): string | undefined => {
  if (pattern.trim() === "" || !isOneLine(pattern) || pattern.length > 128) return `must be ${NUMBER_PATTERN_RULE}`
  const unknown = [...pattern.matchAll(/\{[^{}]*\}/g)].map((m) => m[0]).find((p) => !(NUMBER_PLACEHOLDERS as ReadonlyArray<string>).includes(p))
  if (unknown !== undefined) return `unknown placeholder ${unknown}: the placeholders are {YYYY}, {MM} and {CLIENT}`
  if (!pattern.includes("{YYYY}") || !pattern.includes("{MM}")) {
    return "must hold {YYYY} and {MM}, so that each month's invoice number differs"
  }
  return undefined
}

/** The invoice number of `month` (YYYY-MM) for `client` by `pattern` (already checked). */
export const invoiceNumber = (pattern: string, month: string, client: string): string =>
  pattern.replaceAll("{YYYY}", month.slice(0, 4)).replaceAll("{MM}", month.slice(5, 7)).replaceAll("{CLIENT}", client)

/**
 * Any text made one line for an invoice field: control characters and line breaks become spaces,
 * runs of white space one space (as XML Schema's `token` reads it anyway), no space at either end.
 */
export const oneLine = (text: string): string => text.replace(new RegExp(CONTROL.source, "g"), " ").replace(/\s+/g, " ").trim()

/**
 * The NIP as FA(3) spells it (`TNrNIP`): ten digits whose first three, the code of the tax office
 * that issued it, neither start with 0 nor are `x00`. `domain/Nip.ts` checks the check digit; a
 * number can pass that and still not be one an invoice accepts (`0000000000`).
 */
export const isInvoiceNip = (nip: string): boolean => /^[1-9]((\d[1-9])|([1-9]\d))\d{7}$/.test(nip)
