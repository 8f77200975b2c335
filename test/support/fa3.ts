/**
 * FA(3) drafts checked as KSeF would read them: `xmllint` against the Ministry of Finance's schema
 * in test/fixtures/ksef (with its base schemas, through its XML catalog, no network), and the
 * figures read back from the XML text with nothing shared with src/.
 */
import { spawnSync } from "node:child_process"
import * as Path from "node:path"
import { repoRoot } from "./process.js"

const KSEF = Path.join(repoRoot, "test", "fixtures", "ksef")
export const FA3_SCHEMA = Path.join(KSEF, "schemat_FA(3)_v1-0E.xsd")
export const FA3_CATALOG = Path.join(KSEF, "catalog.xml")

/** Fails loudly where xmllint is missing: the drafts must be checked, never skipped. */
export const requireXmllint = (): void => {
  const r = spawnSync("xmllint", ["--version"], { encoding: "utf8" })
  if (r.error !== undefined || r.status !== 0) {
    throw new Error("xmllint is not installed: install Debian's libxml2-utils (.ci/run does) to check the FA(3) drafts against the official XSD")
  }
}

/** `xmllint --nonet --noout --schema` over the XML (from stdin); its exit code and what it said. */
export const validateFa3 = (xml: string): { readonly code: number | null; readonly output: string } => {
  const r = spawnSync("xmllint", ["--nonet", "--noout", "--schema", FA3_SCHEMA, "-"], {
    input: xml,
    encoding: "utf8",
    env: { ...process.env, XML_CATALOG_FILES: FA3_CATALOG }
  })
  if (r.error !== undefined) throw r.error
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() }
}

/** The text of every `<name>` element, in order (our drafts put each element's text on its line). */
export const texts = (xml: string, name: string): Array<string> =>
  [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`, "g"))].map((m) =>
    m[1].replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", "\"").replaceAll("&apos;", "'").replaceAll("&amp;", "&")
  )

export const text = (xml: string, name: string): string | undefined => texts(xml, name)[0]

/** Each `<FaWiersz>` block's fields. */
export const invoiceLines = (xml: string) =>
  [...xml.matchAll(/<FaWiersz>([\s\S]*?)<\/FaWiersz>/g)].map((m) => ({
    nr: text(m[1], "NrWierszaFa"),
    description: text(m[1], "P_7")!,
    quantity: text(m[1], "P_8B"),
    unitPrice: text(m[1], "P_9A"),
    net: text(m[1], "P_11")!,
    rate: text(m[1], "P_12")
  }))

/** "12.34" → 1234n grosze (also "-0.50"). */
export const grosze = (pln: string): bigint => {
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(pln)
  if (m === null) throw new Error(`not an amount with 2 decimals: ${pln}`)
  const g = BigInt(m[2]) * 100n + BigInt(m[3])
  return m[1] === "-" ? -g : g
}

export const plnOf = (g: bigint): string => {
  const sign = g < 0n ? "-" : ""
  const a = g < 0n ? -g : g
  return `${sign}${a / 100n}.${String(a % 100n).padStart(2, "0")}`
}

/** round_half_up(net × rate %, 2) with integers only (net ≥ 0). */
export const vatOf = (netGrosze: bigint, ratePercent: number): bigint => (netGrosze * BigInt(ratePercent) * 2n + 100n) / 200n
