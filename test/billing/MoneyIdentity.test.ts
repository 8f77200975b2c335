/**
 * Money identity: every money document the app serves for a fixed two-month scenario, hashed
 * (SHA-256) and compared with golden hashes written below, so a refactor of src/ can prove that
 * not one byte of a money figure, rate or count moved.
 *
 * The app is driven ONLY over real HTTP (webhook deliveries, the batch and month-close admin API,
 * the statement and usage endpoints); the only code used from outside this file is test/support
 * (the in-process app, the NBP stand-in serving NBP's real tables, the OTLP delivery builder, the
 * integer money arithmetic of the readable checks). The PDF's text is taken with poppler's
 * `pdftotext -raw` (content-stream order, no layout guessing), as test/accounting already needs.
 *
 * Scenario (fixed instants, fixed generation ids, a fresh DATA_DIR):
 *   - October 2025 and November 2025, five users (Polish letters, a comma and quotes, a name a
 *     spreadsheet would run as a formula), four models; costs with up to 13 significant digits,
 *     beyond 9 decimals (rounded half up to nano-USD), in exponent notation (1.5e-6, 1.5e-9), one
 *     nano-USD, a 9876 USD one, two rows whose PLN is an exact half grosz (half up vs half even);
 *     a zero-cost span with tokens and a span with tokens and no cost attribute at all (its cost
 *     pending until filled from OpenRouter's record of it, which says 0 USD, before any batch); a
 *     redelivered generation (a duplicate, stored once);
 *   - the DST change 2025-10-26 (25 h; both 02:30s) and the last/first millisecond of Warsaw days
 *     and of both months (including an event of 2025-12-01 that neither month may contain), NBP
 *     holidays (1 and 11 November), weekends (the previous business day's table);
 *   - markup: the default 1.3 from the first start; then the app is restarted on the same DATA_DIR
 *     with USAGE_MARKUP_MULTIPLIER=1.45 effective 2025-11-15 (mid-November: two markups in a month);
 *   - batch runs for every day of both months, 2025-10 closed (over the API) in between;
 *   - late events for two days of the closed October (a known user/model and a new user) and one
 *     for open November, re-runs of those days (twice for 2025-10-26: the second must add nothing):
 *     two adjustment rows land in November, November's day is corrected in place.
 *
 * Hashed documents (see `docs` in the test): the batch-run API's results; the months list
 * (closings and audit); per month the statement as JSON, the canonical English CSV (`lang=en`,
 * default and excel-pl), the Polish CSV (the default language; both dialects) and the text of its
 * PDF in Polish and in English; the month summary as JSON and every CSV list (rows, days, users,
 * models, rates, adjustments) in both dialects; the daily rows of both months as JSON and CSV in both
 * dialects. (When the statement learnt Polish, its English CSVs kept their golden hashes — the hash
 * recorded at close is of the English CSV — and only the PDF's text changed: new layout, both
 * languages, every CSV figure in it.)
 *
 * What is normalised (replaced by a fixed token), and nothing else — money, rates, NBP tables,
 * markups, counts, days, users, models and the reasons' wording are hashed as served:
 *   - instants the clock decides (wall-clock time of this run): the statement's `generatedAt`,
 *     a closing's `closedAt` (also inside the status text `closed at … by api` of the CSV, and as
 *     Warsaw wall-clock time `YYYY-MM-DD HH:MM:SS (czasu warszawskiego|Warsaw time)` in the Polish
 *     CSV and the PDFs),
 *     the audit's `at`, an adjustment's `createdAt`, the day history's `correctedAt` and
 *     `lastRunFinishedAt`, a batch run's `startedAt`/`finishedAt` → `<time>`;
 *     each must be an ISO-8601 UTC instant (or null, kept as null) before it is replaced;
 *   - batch run ids (`runId` of the batch API, `id` of a batch run in the month summary, and the
 *     `run #N` / `przebieg nr N` inside adjustment reasons): row ids of `batch_runs`, bookkeeping that a refactor
 *     may legitimately number differently (e.g. one more recorded attempt) → `<run-id>`;
 *   - a closing's `statementSha256`: the SHA-256 of the closed month's statement CSV, which holds
 *     `closedAt`, so it changes with the clock → `<sha256>`; before that it is checked to be the
 *     hash of the CSV as served, byte for byte (that CSV is hashed here, normalised).
 * No document contains the temporary DATA_DIR path (asserted), so no path is normalised. JSON
 * bodies are asserted to be compact JSON (`JSON.stringify(JSON.parse(body)) === body`), so hashing
 * the re-serialised normalised JSON is hashing the bytes served; CSV and PDF text are normalised as
 * text, each document with the exact number of replacements it must need (asserted).
 *
 * When a hash differs: `MONEY_IDENTITY_DUMP=/some/dir npx vitest run test/billing/MoneyIdentity.test.ts`
 * writes every normalised document there; dump before and after the refactor and diff the folders.
 */
import { execFileSync } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, postWebhook, startApp, tempDir, type TestApp } from "../support/app.js"
import { expectedPln, nanoUsd } from "../support/money.js"
import { fixtureTables, type NbpStandIn, startNbpStandIn } from "../support/nbpStandIn.js"
import { API_KEY, type OpenRouterStandIn, startOpenRouterStandIn } from "../support/openRouterStandIn.js"
import { delivery } from "../support/otlp.js"
import { bareEnv, runCli } from "../support/process.js"

/** SHA-256 of each normalised document (see above); a change here is a change in money, rates or counts. */
const GOLDEN: Record<string, string> = {
  "batch-results.json": "adcc230894be448e237fc5da16bc70f09a71c047fd7ac609ba8f822adfcdc739",
  "months.json": "9d2b5d76d395a66c8f7e8424eb0d5a7337357b3834c3cb4873f8c9e4d77a3e46",
  "statement-2025-10.json": "7bc9a65fd3b8a0ebc8de0b8b17b01dd1bfc6aeb8e74dfb0196d5435a07530f76",
  "statement-2025-10.csv": "bc2d84f1726b8949ddaf2e8faf5504f3f1d5d90fff88e01cecae9c8bf83d97dd",
  "statement-2025-10.excel-pl.csv": "0dc44f58e7842a54cf65442e4022996d8a1a8ec36c5a8e23c52ed7d2fedcd833",
  "statement-2025-10.pl.csv": "f8893fa9a6834daf2e5636f519ed99511bfce3dc813e25bb34333a349bc6ca5c",
  "statement-2025-10.pl.excel-pl.csv": "c13b6bdc879400cf4a90fe8b1f8e16481d7a09229687bc3bd94a11335c5a2b4a",
  "statement-2025-10.pl.pdf.txt": "c48e0c251d1d405f238862ba17fdcd44bf415a8b92c48ddf5b8dcd22d8d9f7f4",
  "statement-2025-10.en.pdf.txt": "4d1414489a5df6195e384f6d5e2bf655e96bc91191a1d177a3efc5af73d31d9e",
  "summary-2025-10.json": "1a406d91cb7965a2f866fc83080e3f85dbc5325c47ff681072c5089018352b7b",
  "summary-2025-10.rows.csv": "ee4aeeba6e2691dfe60602f20432476a613fa98c89b1c5fd730cbd3e304b482b",
  "summary-2025-10.rows.excel-pl.csv": "1dd4e53b5cded3d2aab9a7c661a6493767511a4e449a80ac06dd405a1ddbbc9d",
  "summary-2025-10.days.csv": "5d1459c8cbad2323e32a86e6542d70c26bad6229a3b1786951189cab481e5907",
  "summary-2025-10.days.excel-pl.csv": "46f8f9e6b7640b8ae83c1a3d6d264cfbbf0ac777ab912c5a541a12c6116d99f5",
  "summary-2025-10.users.csv": "2a587336b79bfe8afb1380e24afa246ee014e8bb2be4f59c60f2d4fcbd3b5e38",
  "summary-2025-10.users.excel-pl.csv": "aa8bfdf01bf4ff4914bcdbd806422b4dcb402b95103b182734edb5fdf0c99a56",
  "summary-2025-10.models.csv": "f6274fc38a031b8851471c802b4ac9ea0ed9a07ca2ec3aa7a3235c4b35ae4d79",
  "summary-2025-10.models.excel-pl.csv": "1087213e3030a1e426f2780b288f4ec851f2f525620268cffd3289a18dfa6df2",
  "summary-2025-10.rates.csv": "e050a95f623f9ff61908df70a840ad47d20f388cde9ec2399f9479ee0dc8562c",
  "summary-2025-10.rates.excel-pl.csv": "975be354997f2f7ca4c61e76c7463ba63822a1d046cfbccc8d29167b97a854ca",
  "summary-2025-10.adjustments.csv": "8dd8b0d6c6654fba718a72bf0a2f4b6824a8b3f05145fe1b39f04c82d232c4c0",
  "summary-2025-10.adjustments.excel-pl.csv": "b3dd0e34353e871b953bd838335f99dfb38a87024993b9df77f0aef42339f4ee",
  "statement-2025-11.json": "18b2d85de71df21163ba2d0a8b2b8f5a901d64271c4718ca2cf68a5d866a32a1",
  "statement-2025-11.csv": "d57254b07ce8736d965f1e673b1dd964c004982c59e533d26af37acc1a1bea90",
  "statement-2025-11.excel-pl.csv": "45d6bfe3db812434e78e2e8533a209d829339c45f14289b9cc0d506d7a6077d5",
  "statement-2025-11.pl.csv": "b57967de3b78e6554da6a3c619d339e98362bd83f9de13c56c7969f191fd5d97",
  "statement-2025-11.pl.excel-pl.csv": "5d1177166b3d68765e596e0b0173e7c8e08dcaba15e729f92ba4ced22d3a4662",
  "statement-2025-11.pl.pdf.txt": "7a5368f33549c2873e229f56d055c4d99e64799fc114b376a716ac9955bce950",
  "statement-2025-11.en.pdf.txt": "72efac168b1e046128ec93d5972253748fae2594f3e5f8fabb132bb7b8990ae7",
  "summary-2025-11.json": "a9a2f221328a57a2fba2e74178ff524a304c7d2c026263b076dbf53957232bd7",
  "summary-2025-11.rows.csv": "d7878d5517cbec45a10f55bbbdaf859f15b98ebfd50e982d983e7e727fbe4857",
  "summary-2025-11.rows.excel-pl.csv": "affc7701381aadd5a0ca2d502f682a931329c72cfa2c21258ff3d81750639dba",
  "summary-2025-11.days.csv": "df470753a2e40ceae829867d48e8938ff755f2647355a972c4e0ce275a1d3828",
  "summary-2025-11.days.excel-pl.csv": "86c2bc7be4a953159efd8584dc529c8055b2bf18704e4b99d9f89f802af8f11c",
  "summary-2025-11.users.csv": "269a2eb101efe4c685adbabde41d8fb12013bc82bfdfdf1b1db85df2f5535884",
  "summary-2025-11.users.excel-pl.csv": "1726f42dde0906a39d6eddb2760bea2f480b9b0f864abbdeb4ffcbee6318a7b6",
  "summary-2025-11.models.csv": "c0e11cb89f8fb685261df9d91f4251205e1e6d6ff206e99fcd4216d157ffa629",
  "summary-2025-11.models.excel-pl.csv": "532fbcef2f751c3f6b5e9b6d81720f691034b230b2dacd45b57a17377d6a6d5e",
  "summary-2025-11.rates.csv": "83317688514c586bde89aa078b44bfe2a426b4d437c75d5d7a60c8825025b760",
  "summary-2025-11.rates.excel-pl.csv": "f5675896d4a77f17adb2405deba4d20be60604f2d987a1d904e468ba28d93fd7",
  "summary-2025-11.adjustments.csv": "78e4b108000fc08ec0af13153d5c502bc44a42363f02852b71e6b926f25499a0",
  "summary-2025-11.adjustments.excel-pl.csv": "db6052c5d44edc3e937f03b0535633c53a78e1da66f716da7674438df520d367",
  "daily.json": "12a2a21436e662d20436beced6bf8a824151cb5224624d79060371926f3afb47",
  "daily.csv": "22cdb776ab8a663face340f444418f323384c7dce3ffbf704a44d09cc94ba3c8",
  "daily.excel-pl.csv": "ab7a6639ff1c31b6e1a20899366e7da8454fb97b721f3668a609d6fae3ec4fcf"
}

const ANNA = "anna.kowalska@example.pl"
const LUKASZ = "Łukasz Żółć"
const JAN = "Kowalski, \"Jan\""
const OPS = "@ops-bot"
const NEW = "nowy.użytkownik@example.pl"
const GPT = "openai/gpt-4o"
const HAIKU = "anthropic/claude-haiku-4.5"
const GEMINI = "google/gemini-2.5-pro"
const DEEPSEEK = "deepseek/deepseek-r1"

interface Ev {
  readonly id: string
  readonly at: string
  readonly user: string
  readonly model: string
  /** USD as OpenRouter sends it (a JSON number); null: the span has token counts but no cost attribute */
  readonly cost: string | null
  /** input, output, cached, reasoning */
  readonly tokens: readonly [number, number, number, number]
}

const ev = (id: string, at: string, user: string, model: string, cost: string | null, tokens: Ev["tokens"]): Ev =>
  ({ id: `gen-money-${id}`, at, user, model, cost, tokens })

/** October, priced at the default markup (1.3). */
const OCTOBER: ReadonlyArray<Ev> = [
  ev("01", "2025-10-03T07:15:00.000Z", ANNA, GPT, "0.000123456", [1200, 345, 0, 0]),
  ev("02", "2025-10-03T11:42:17.123Z", ANNA, GPT, "1.234567891", [15000, 2100, 8000, 0]),
  ev("03", "2025-10-03T16:05:00.000Z", LUKASZ, HAIKU, "0.987654321", [4149, 154, 0, 15]),
  // An exact half grosz: 50 × 1.3 × 3.6210 = 235.365 → 235.37 (half up; half-even would give 235.36).
  ev("03b", "2025-10-03T17:00:00.000Z", JAN, DEEPSEEK, "50", [5000, 500, 0, 0]),
  // Monday: priced at Friday's table.
  ev("04", "2025-10-06T09:00:00.000Z", JAN, GEMINI, "12.3456789", [250000, 12000, 120000, 3000]),
  // Zero cost, tokens carried.
  ev("05", "2025-10-06T10:00:00.000Z", JAN, GEMINI, "0", [800, 20, 0, 0]),
  // The last millisecond of Saturday 2025-10-25 in Warsaw (CEST), 1.5e-6 USD.
  ev("06", "2025-10-25T21:59:59.999Z", LUKASZ, HAIKU, "0.0000015", [10, 5, 0, 0]),
  // The first millisecond of 2025-10-26, the 25-hour day; 10 decimals, rounded half up.
  ev("07", "2025-10-25T22:00:00.000Z", LUKASZ, HAIKU, "0.1234567895", [321, 123, 0, 7]),
  // 02:30 CEST and 02:30 CET: the hour that happens twice. 1.5e-9 USD → 2 nano-USD; 10 decimals rounded down.
  ev("08", "2025-10-26T00:30:00.000Z", OPS, DEEPSEEK, "0.0000000015", [1, 1, 0, 0]),
  ev("09", "2025-10-26T01:30:00.000Z", OPS, DEEPSEEK, "0.1234567894", [65432, 4321, 1000, 2345]),
  // The last millisecond of 2025-10-26 (CET): tokens, no cost attribute at all (pending; OpenRouter's
  // record of it says 0 USD, filled with `mai-usage costs fill` before the batch).
  ev("10", "2025-10-26T22:59:59.999Z", ANNA, GPT, null, [3000, 700, 0, 0]),
  ev("11", "2025-10-26T23:00:00.000Z", ANNA, GPT, "0.5", [500, 50, 0, 0]),
  // The last millisecond of October in Warsaw, a large cost.
  ev("12", "2025-10-31T22:59:59.999Z", JAN, GEMINI, "9876.543210987", [999999, 88888, 7777, 666]),
  // The first millisecond of November (a Saturday and a holiday), one nano-USD.
  ev("13", "2025-10-31T23:00:00.000Z", JAN, GEMINI, "0.000000001", [2, 3, 0, 0])
]

/** November: 1.3 until 2025-11-14, 1.45 from 2025-11-15. */
const NOVEMBER: ReadonlyArray<Ev> = [
  ev("14", "2025-11-03T08:00:00.000Z", ANNA, GPT, "2.718281828", [31415, 2718, 1414, 0]),
  ev("15", "2025-11-03T09:00:00.000Z", LUKASZ, HAIKU, "3.141592653", [27182, 3141, 0, 1732]),
  // The day after the 11 November holiday: 10 November's table.
  ev("16", "2025-11-12T12:00:00.000Z", OPS, DEEPSEEK, "0.333333333", [3333, 333, 33, 3]),
  // Either side of the markup change (Warsaw midnight 2025-11-15 is 2025-11-14T23:00Z).
  ev("17", "2025-11-14T22:59:59.999Z", LUKASZ, HAIKU, "0.045", [450, 45, 0, 0]),
  ev("18", "2025-11-14T23:00:00.000Z", LUKASZ, HAIKU, "0.045", [450, 45, 0, 0]),
  ev("19", "2025-11-20T10:00:00.000Z", JAN, GEMINI, "7.777777777", [77777, 7777, 777, 77]),
  // An exact half grosz at the new markup: 62.5 × 1.45 × 3.6624 = 331.905 → 331.91 (half-even: 331.90).
  ev("20b", "2025-11-30T12:00:00.000Z", OPS, DEEPSEEK, "62.5", [6250, 625, 0, 0]),
  // The last millisecond of November, and the first of December (in neither month).
  ev("20", "2025-11-30T22:59:59.999Z", ANNA, GPT, "0.019999999", [199, 99, 0, 0]),
  ev("21", "2025-11-30T23:00:00.000Z", ANNA, GPT, "5", [5000, 500, 0, 0])
]

/** Arriving after October was closed and November was billed. */
const LATE: ReadonlyArray<Ev> = [
  ev("22", "2025-10-26T12:00:00.000Z", LUKASZ, HAIKU, "0.4444444445", [4444, 444, 44, 4]),
  ev("23", "2025-10-31T10:00:00.000Z", NEW, GPT, "0.25", [2500, 250, 0, 0]),
  ev("24", "2025-11-20T11:00:00.000Z", JAN, GEMINI, "1.1", [1100, 110, 0, 0])
]

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
let nbp: NbpStandIn
let dataDir: string
let app: TestApp | undefined

const url = () => app!.url

const body = (e: Ev): string => {
  const [inputTokens, outputTokens, cachedTokens, reasoningTokens] = e.tokens
  const text = delivery({
    generationId: e.id,
    startNs: BigInt(Date.parse(e.at)) * 1_000_000n,
    user: e.user,
    model: e.model,
    cost: e.cost ?? undefined,
    inputTokens,
    outputTokens,
    cachedTokens,
    reasoningTokens
  })
  if (e.cost !== null) return text
  const d = JSON.parse(text)
  for (const rs of d.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        span.attributes = span.attributes.filter((a: { key: string }) => a.key !== "gen_ai.usage.total_cost")
      }
    }
  }
  return JSON.stringify(d)
}

const send = async (e: Ev, expected: { accepted: number; duplicates: number } = { accepted: 1, duplicates: 0 }) => {
  const res = await postWebhook(url(), body(e))
  const reply = (await res.json()) as any
  expect(res.status, JSON.stringify(reply)).toBe(200)
  expect(reply, e.id).toMatchObject({ ...expected, ignored: 0, rejected: 0 })
}

/** Every batch-run API answer, in order: one of the hashed documents. */
const batchResults: Array<unknown> = []
const run = async (query: string) => {
  const res = await fetch(`${url()}/api/v1/admin/batch/run?${query}`, { method: "POST", headers: admin })
  const text = await res.text()
  expect(res.status, text).toBe(200)
  const answer = JSON.parse(text)
  for (const r of answer.results) expect(r.status, JSON.stringify(r)).toBe("succeeded")
  batchResults.push({ query, ...answer })
  return answer.results as Array<any>
}

const get = async (path: string) => {
  const res = await fetch(url() + path, { headers: admin })
  const bytes = Buffer.from(await res.arrayBuffer())
  expect(res.status, `${path}: ${bytes.toString("utf8").slice(0, 300)}`).toBe(200)
  return { bytes, contentType: res.headers.get("content-type") ?? "" }
}

// ---------------------------------------------------------------------------------------------
// Normalisation (see the header comment for what and why)

const TIME = "<time>"
const RUN_ID = "<run-id>"
const SHA = "<sha256>"
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/
/** An ISO-8601 UTC instant inside text (CSV cells, PDF text): a usage day (YYYY-MM-DD) never matches. */
const INSTANT_IN_TEXT =
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \((?:czasu warszawskiego|Warsaw time)\)/g
const RUN_REF = /run\s#\d+|przebieg\snr\s\d+/g

/** Keys whose value is an instant the clock decides. */
const TIME_KEYS = new Set(["generatedAt", "closedAt", "createdAt", "correctedAt", "lastRunFinishedAt", "startedAt", "finishedAt", "at"])
/** Keys holding a batch run (whose `id` is a run id). */
const RUN_KEYS = new Set(["lastBatchRun", "lastSuccessfulRun", "standingRun"])

const normaliseJson = (value: unknown, key: string | undefined = undefined, parent: string | undefined = undefined): unknown => {
  if (key !== undefined && TIME_KEYS.has(key)) {
    if (value === null) return null
    if (typeof value !== "string" || !INSTANT.test(value)) throw new Error(`${key} is not an ISO instant: ${JSON.stringify(value)}`)
    return TIME
  }
  if (key === "statementSha256") {
    if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) throw new Error(`statementSha256: ${JSON.stringify(value)}`)
    return SHA
  }
  if (key === "runId" || (key === "id" && parent !== undefined && RUN_KEYS.has(parent))) {
    if (!Number.isInteger(value)) throw new Error(`${key} is not a run id: ${JSON.stringify(value)}`)
    return RUN_ID
  }
  if (key === "reason" && typeof value === "string") return value.replace(RUN_REF, `run #${RUN_ID}`)
  if (Array.isArray(value)) return value.map((v) => normaliseJson(v, undefined, key ?? parent))
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseJson(v, k, key)]))
  }
  return value
}

/** Instants and run references in text, replaced; their numbers must be exactly those expected. */
const normaliseText = (name: string, text: string, expected: { instants: number; runRefs: number; shas?: number }) => {
  let instants = 0
  let runRefs = 0
  let shas = 0
  const out = text
    .replace(INSTANT_IN_TEXT, () => (instants++, TIME))
    .replace(RUN_REF, (ref) => (runRefs++, ref.startsWith("run") ? `run #${RUN_ID}` : `przebieg nr ${RUN_ID}`))
    .replace(/\b[0-9a-f]{64}\b/g, () => (shas++, SHA))
  expect({ instants, runRefs, shas }, `${name}: replacements`).toEqual({ shas: 0, ...expected })
  return out
}

const sha256 = (text: string) => Crypto.createHash("sha256").update(text, "utf8").digest("hex")

/** The normalised documents, by name. */
const docs = new Map<string, string>()

const addJson = (name: string, raw: string) => {
  served.set(name, raw)
  expect(JSON.stringify(JSON.parse(raw)), `${name} is served as compact JSON`).toBe(raw)
  docs.set(name, JSON.stringify(normaliseJson(JSON.parse(raw))))
}
const addText = (name: string, raw: string, expected: { instants: number; runRefs: number; shas?: number }) => {
  served.set(name, raw)
  docs.set(name, normaliseText(name, raw, expected))
}
/** UTF-8, the BOM of the excel-pl dialect kept. */
const utf8 = (bytes: Buffer) => new TextDecoder("utf-8", { ignoreBOM: true, fatal: true }).decode(bytes)

/** The PDF's text in content-stream order (`-raw`: no layout heuristics). */
const pdfText = (pdf: Buffer) => execFileSync("pdftotext", ["-raw", "-enc", "UTF-8", "-", "-"], { input: pdf, encoding: "utf8" })

// ---------------------------------------------------------------------------------------------

let octoberCsvAtClose = ""
let closing: any
let openRouter: OpenRouterStandIn
/** NBP and OpenRouter: the stand-ins. */
const services = () => ({ NBP_API_URL: nbp.url, OPENROUTER_API_URL: openRouter.url, OPENROUTER_API_KEY: API_KEY })
/** As served (not normalised), for the readable assertions. */
const served = new Map<string, string>()

beforeAll(async () => {
  nbp = await startNbpStandIn({ today: "2025-12-31" })
  openRouter = await startOpenRouterStandIn()
  dataDir = tempDir("mai-usage-money-")
  app = await startApp({ DATA_DIR: dataDir, ...services() })

  for (const e of [...OCTOBER, ...NOVEMBER]) await send(e)
  await send(OCTOBER[1], { accepted: 0, duplicates: 1 }) // a redelivery, stored once
  // The one cost Broadcast did not send: OpenRouter's record of the generation says 0 USD.
  for (const e of OCTOBER) if (e.cost === null) openRouter.setGeneration(e.id, 0)
  const filled = await runCli(["costs", "fill"], { ...bareEnv(), ...app.vars, DATA_DIR: dataDir })
  expect(filled.code, filled.stderr).toBe(0)

  await run("from=2025-10-01&to=2025-10-31")
  const closed = await fetch(`${url()}/api/v1/admin/months/2025-10/close?reason=FV%2F10%2F2025`, { method: "POST", headers: admin })
  closing = await closed.json()
  expect(closed.status, JSON.stringify(closing)).toBe(200)
  // The canonical CSV (English, default dialect): the one whose SHA-256 the closing records.
  octoberCsvAtClose = utf8((await get("/api/v1/statements/2025-10?format=csv&lang=en")).bytes)

  // The markup changes from 15 November: a restart on the same DATA_DIR with the new configuration.
  await app.close()
  app = undefined
  app = await startApp({ DATA_DIR: dataDir, ...services(), USAGE_MARKUP_MULTIPLIER: "1.45", USAGE_MARKUP_EFFECTIVE_FROM: "2025-11-15" })
  await run("from=2025-11-01&to=2025-11-30")

  for (const e of LATE) await send(e)
  await run("date=2025-10-26")
  await run("date=2025-10-31")
  await run("date=2025-11-20")
  await run("date=2025-10-26") // again: nothing more

  // Collect.
  addJson("batch-results.json", JSON.stringify(batchResults))
  addJson("months.json", utf8((await get("/api/v1/admin/months")).bytes))
  for (const month of ["2025-10", "2025-11"]) {
    const closedMonth = month === "2025-10"
    const adjustments = closedMonth ? 0 : 2
    const statement = `/api/v1/statements/${month}`
    addJson(`statement-${month}.json`, utf8((await get(statement)).bytes))
    // English (`lang=en`): the canonical CSV, byte for byte what it was before the statement spoke Polish.
    addText(`statement-${month}.csv`, utf8((await get(`${statement}?format=csv&lang=en`)).bytes), {
      instants: closedMonth ? 1 : 0,
      runRefs: adjustments
    })
    addText(`statement-${month}.excel-pl.csv`, utf8((await get(`${statement}?dialect=excel-pl&lang=en`)).bytes), {
      instants: closedMonth ? 1 : 0,
      runRefs: adjustments
    })
    // Polish (the default): the same lines and figures, Polish headers and notes, the close in Warsaw time.
    addText(`statement-${month}.pl.csv`, utf8((await get(`${statement}?format=csv`)).bytes), {
      instants: closedMonth ? 1 : 0,
      runRefs: adjustments
    })
    addText(`statement-${month}.pl.excel-pl.csv`, utf8((await get(`${statement}?dialect=excel-pl`)).bytes), {
      instants: closedMonth ? 1 : 0,
      runRefs: adjustments
    })
    for (const lang of ["pl", "en"]) {
      const pdf = await get(`${statement}?format=pdf&lang=${lang}`)
      expect(pdf.contentType).toBe("application/pdf")
      // Generated at, and for the closed month its closed-at time and the closing's CSV hash.
      addText(`statement-${month}.${lang}.pdf.txt`, pdfText(pdf.bytes), {
        instants: closedMonth ? 2 : 1,
        runRefs: adjustments,
        shas: closedMonth ? 1 : 0
      })
    }
    const summary = `/api/v1/usage/summary?month=${month}`
    addJson(`summary-${month}.json`, utf8((await get(summary)).bytes))
    for (const list of ["rows", "days", "users", "models", "rates", "adjustments"]) {
      const expected = list === "adjustments" ? { instants: adjustments, runRefs: adjustments } : { instants: 0, runRefs: 0 }
      addText(`summary-${month}.${list}.csv`, utf8((await get(`${summary}&format=csv&list=${list}`)).bytes), expected)
      addText(`summary-${month}.${list}.excel-pl.csv`, utf8((await get(`${summary}&list=${list}&dialect=excel-pl`)).bytes), expected)
    }
  }
  const daily = "/api/v1/usage/daily?from=2025-10-01&to=2025-11-30"
  addJson("daily.json", utf8((await get(daily)).bytes))
  addText("daily.csv", utf8((await get(`${daily}&format=csv`)).bytes), { instants: 0, runRefs: 0 })
  addText("daily.excel-pl.csv", utf8((await get(`${daily}&dialect=excel-pl`)).bytes), { instants: 0, runRefs: 0 })

  const dump = process.env.MONEY_IDENTITY_DUMP
  if (dump !== undefined && dump !== "") {
    Fs.mkdirSync(dump, { recursive: true })
    for (const [name, text] of docs) Fs.writeFileSync(Path.join(dump, name), text)
  }
})

afterAll(async () => {
  await app?.close()
  await nbp?.close()
  await openRouter?.close()
  if (dataDir !== undefined) Fs.rmSync(dataDir, { recursive: true, force: true })
})

// ---------------------------------------------------------------------------------------------
// An independent recomputation of the key figures (integers only; no code shared with src/)

/** Nano-USD of a plain decimal text, digits beyond the 9th decimal rounded half up (the ingest rule). */
const nanoOf = (cost: string | null): bigint => {
  if (cost === null) return 0n
  const [whole, frac = ""] = cost.split(".")
  const kept = nanoUsd(`${whole}.${frac.slice(0, 9)}`)
  return frac.length > 9 && frac.charCodeAt(9) - 48 >= 5 ? kept + 1n : kept
}
const warsawDay = (at: string) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Warsaw" }).format(new Date(at))
/** The newest NBP table strictly before the usage day (previous-business-day, the default rule). */
const tableFor = (day: string) => fixtureTables().filter((t) => t.effectiveDate < day).at(-1)!
const markupFor = (day: string) => (day >= "2025-11-15" ? "1.45" : "1.3")
const grosze = (pln: string) => BigInt(pln.replace(".", ""))
const pln = (g: bigint) => `${g / 100n}.${String(g % 100n).padStart(2, "0")}`

/** The billed rows of a month's days from the given events: PLN per (day, user, model), summed. */
const expectedMonth = (month: string, events: ReadonlyArray<Ev>) => {
  const rows = new Map<string, { day: string; nano: bigint }>()
  for (const e of events) {
    const day = warsawDay(e.at)
    if (!day.startsWith(month)) continue
    const key = JSON.stringify([day, e.user, e.model])
    const row = rows.get(key) ?? { day, nano: 0n }
    row.nano += nanoOf(e.cost)
    rows.set(key, row)
  }
  let nano = 0n
  let g = 0n
  for (const r of rows.values()) {
    nano += r.nano
    g += grosze(expectedPln(r.nano, markupFor(r.day), tableFor(r.day).mid))
  }
  return { nano, grosze: g }
}

describe("money identity", () => {
  it("every money document hashes to its golden SHA-256", () => {
    const hashes = Object.fromEntries([...docs.entries()].map(([name, text]) => [name, sha256(text)]))
    expect(hashes).toEqual(GOLDEN)
  })

  it("the closing's SHA-256 is of the October statement CSV, which adjustments did not change", () => {
    expect(closing.statementSha256).toBe(sha256(octoberCsvAtClose))
    expect(served.get("statement-2025-10.csv")).toBe(octoberCsvAtClose)
    for (const [name, text] of served) expect(text.includes(dataDir), name).toBe(false)
  })

  it("key totals, recomputed here: closed October, November's lines plus its adjustments for October", () => {
    const oct = JSON.parse(served.get("statement-2025-10.json")!)
    const nov = JSON.parse(served.get("statement-2025-11.json")!)

    const octExpected = expectedMonth("2025-10", OCTOBER)
    expect(oct.status).toBe("closed")
    expect(oct.totals).toMatchObject({ requests: 13, costUsd: "9941.858150636", costPln: "47197.44" })
    expect(nanoUsd(oct.totals.costUsd)).toBe(octExpected.nano)
    expect(oct.totals.costPln).toBe(pln(octExpected.grosze))
    expect(closing).toMatchObject({ month: "2025-10", closedBy: "api", costUsd: oct.totals.costUsd, costPln: oct.totals.costPln, requests: 13 })

    // The late October events, booked into November at each original day's rate and markup (1.3):
    // found figures priced as that day was, minus what the day's frozen rows already booked.
    const octWithLate = [...OCTOBER, ...LATE]
    const adjustment = (day: string, user: string, model: string) => {
      const nanoOfDay = (events: ReadonlyArray<Ev>) =>
        events.filter((e) => warsawDay(e.at) === day && e.user === user && e.model === model).reduce((n, e) => n + nanoOf(e.cost), 0n)
      const t = tableFor(day)
      return pln(grosze(expectedPln(nanoOfDay(octWithLate), "1.3", t.mid)) - grosze(expectedPln(nanoOfDay(OCTOBER), "1.3", t.mid)))
    }
    expect(nov.adjustments.map((a: any) => [a.originalDate, a.user, a.model, a.costUsd, a.markup, a.rateTable, a.costPln])).toEqual([
      ["2025-10-26", LUKASZ, HAIKU, "0.444444445", "1.3", "207/A/NBP/2025", adjustment("2025-10-26", LUKASZ, HAIKU)],
      ["2025-10-31", NEW, GPT, "0.25", "1.3", "211/A/NBP/2025", adjustment("2025-10-31", NEW, GPT)]
    ])
    expect(nov.adjustmentsTotals.costPln).toBe("3.29")

    const novExpected = expectedMonth("2025-11", [...OCTOBER, ...NOVEMBER, ...LATE])
    expect(nov.status).toBe("open")
    expect(nov.linesTotals).toMatchObject({ requests: 10, costUsd: "77.680985591", costPln: "409.25" })
    expect(nanoUsd(nov.linesTotals.costUsd)).toBe(novExpected.nano)
    expect(nov.linesTotals.costPln).toBe(pln(novExpected.grosze))
    expect(nov.markups.map((m: any) => [m.markup, m.firstDay, m.lastDay, m.days])).toEqual([
      ["1.3", "2025-11-01", "2025-11-14", 4],
      ["1.45", "2025-11-15", "2025-11-30", 3]
    ])
    expect(nov.totals).toMatchObject({ requests: 12, costUsd: "78.375430036", costPln: "412.54" })
    expect(nov.totals.costPln).toBe(pln(grosze(nov.linesTotals.costPln) + grosze(nov.adjustmentsTotals.costPln)))

    // The two exact half-grosz rows round half up.
    const daily = JSON.parse(served.get("daily.json")!).rows as Array<any>
    const row = (date: string, user: string) => daily.find((r) => r.date === date && r.user === user && r.model === DEEPSEEK)
    expect(row("2025-10-03", JAN)).toMatchObject({ costUsd: "50.00", markup: "1.3", rate: "3.6210", costPln: "235.37" })
    expect(expectedPln(nanoUsd("50"), "1.3", "3.6210")).toBe("235.37")
    expect(row("2025-11-30", OPS)).toMatchObject({ costUsd: "62.50", markup: "1.45", rate: "3.6624", costPln: "331.91" })
    expect(expectedPln(nanoUsd("62.5"), "1.45", "3.6624")).toBe("331.91")
  })
})
