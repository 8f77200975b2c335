// mai-usage dashboard: the one place that decides how numbers, money, dates and labels look.
// Polish by default, English with ?lang=en (the server picks the language and sets <html lang>).
// Money and rates are formatted from the API's decimal strings, never through floats.
//
// A classic script loaded before the others; modules and panels take what they need:
//   const { t, formatPln, formatPlnExact, formatUsd, formatUsdExact, formatCount, formatDay } = window.MaiLocale
"use strict"

window.MaiLocale = (() => {

const lang = document.documentElement.lang === "en" ? "en" : "pl"
const intlLocale = lang === "en" ? "en-GB" : "pl-PL"
const NBSP = "\u00a0"

// ---- labels ------------------------------------------------------------------------------------

/** Every label of the dashboard in both languages: labels.json, embedded in the page by the server. */
const embedded = document.getElementById("mai-labels")
const messages = embedded === null ? { pl: {}, en: {} } : JSON.parse(embedded.textContent)

/** The label `key` in the page's language, with `{name}` placeholders filled from `vars`. */
const t = (key, vars = {}) => {
  const text = messages[lang][key] ?? messages.en[key] ?? key
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])))
}

const pluralRules = new Intl.PluralRules(intlLocale)

/**
 * "1 wiersz", "2 wiersze", "5 wierszy" / "1 row", "2 rows": `forms` has one text per plural
 * category of the language (pl: one, few, many; en: one, other).
 */
const plural = (n, forms) => {
  const f = forms[lang] ?? forms
  const form = f[pluralRules.select(Number(n))] ?? f.other ?? f.many
  return `${formatCount(n)}${NBSP}${form}`
}

// ---- numbers -----------------------------------------------------------------------------------

const GROUP = lang === "en" ? "," : NBSP
const DECIMAL = lang === "en" ? "." : ","

/** "1234567" → "1 234 567" (pl) / "1,234,567" (en); Polish groups four-digit numbers too. */
const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, GROUP)

const splitDecimal = (text) => {
  const s = String(text ?? "0").trim()
  const negative = s.startsWith("-")
  const [int, frac = ""] = (negative ? s.slice(1) : s).split(".")
  return { negative, int: int === "" ? "0" : int.replace(/^0+(?=\d)/, ""), frac }
}

/** Rounds a decimal string half up (away from zero) to `places` decimals, exactly. */
const roundDecimal = (text, places) => {
  const { negative, int, frac } = splitDecimal(text)
  if (frac.length <= places) return { negative, int, frac: frac.padEnd(places, "0") }
  const digits = BigInt(int + frac.slice(0, places)) + (frac[places] >= "5" ? 1n : 0n)
  const all = digits.toString().padStart(places + 1, "0")
  return { negative: negative && digits !== 0n, int: all.slice(0, all.length - places), frac: all.slice(all.length - places) }
}

const joinNumber = ({ negative, int, frac }) => `${negative ? "-" : ""}${group(int)}${frac === "" ? "" : DECIMAL + frac}`

/** A count: 6 341 135 / 6,341,135. */
const formatCount = (n) => (n === null || n === undefined ? "—" : joinNumber(splitDecimal(String(n))))

/** A decimal exactly as given, in the page's notation (rates: 3,6395 / 3.6395). */
const formatDecimal = (text) => (text === null || text === undefined ? "—" : joinNumber(splitDecimal(text)))

/** PLN to the grosz: "1 583,74 zł" / "PLN 1,583.74". */
const formatPln = (text) => {
  if (text === null || text === undefined) return "—"
  const n = joinNumber(roundDecimal(text, 2))
  return lang === "en" ? `PLN${NBSP}${n}` : `${n}${NBSP}zł`
}

/** PLN exactly as given (every decimal, at least two; no rounding): "1 583,74 zł" / "PLN 1,583.74". */
const formatPlnExact = (text) => {
  if (text === null || text === undefined) return "—"
  const d = splitDecimal(text)
  const n = joinNumber({ ...d, frac: d.frac.padEnd(2, "0") })
  return lang === "en" ? `PLN${NBSP}${n}` : `${n}${NBSP}zł`
}

const usdText = (n) => (lang === "en" ? (n.startsWith("-") ? `-$${n.slice(1)}` : `$${n}`) : `${n}${NBSP}USD`)

/** USD exactly as stored (all its decimals, at least two): for titles, tooltips and CSV. */
const formatUsdExact = (text) => {
  if (text === null || text === undefined) return "—"
  const d = splitDecimal(text)
  return usdText(joinNumber({ ...d, frac: d.frac.padEnd(2, "0") }))
}

/**
 * USD rounded to the cent for display ("1 234,57 USD" / "$1,234.57"); a non-zero amount below
 * half a cent shows as "< 0,01 USD" rather than a misleading zero. The exact value is
 * `formatUsdExact` (put it in the element's title).
 */
const formatUsd = (text) => {
  if (text === null || text === undefined) return "—"
  const r = roundDecimal(text, 2)
  if (r.int === "0" && r.frac === "00" && /[1-9]/.test(splitDecimal(text).frac)) {
    return `<${NBSP}${usdText(joinNumber({ negative: false, int: "0", frac: "01" }))}`
  }
  return usdText(joinNumber(r))
}

/** Exact ordering key of a decimal string (sorting money columns). */
const decimalKey = (text) => {
  const { negative, int, frac } = splitDecimal(text ?? "0")
  const v = BigInt(int + frac.padEnd(12, "0").slice(0, 12))
  return negative ? -v : v
}

// ---- dates -------------------------------------------------------------------------------------

const utcDay = (day) => {
  const [y, m, d] = day.split("-").map(Number)
  return new Date(Date.UTC(y, m - 1, d ?? 1))
}

/** A calendar day: "6 paź 2025" / "6 Oct 2025". */
const formatDay = (day) =>
  day ? utcDay(day).toLocaleDateString(intlLocale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : "—"

/** A calendar day, short for narrow columns: "06.10" / "06/10". */
const formatDayShort = (day) =>
  day ? utcDay(day).toLocaleDateString(intlLocale, { day: "2-digit", month: "2-digit", timeZone: "UTC" }) : "—"

/** "październik 2025" / "October 2025". */
const monthName = (month) =>
  utcDay(month).toLocaleDateString(intlLocale, { month: "long", year: "numeric", timeZone: "UTC" })

/** An instant in the given zone: "5 lis 2025, 13:00:01" / "5 Nov 2025, 13:00:01". */
const formatDateTime = (iso, timeZone) => {
  if (!iso) return "—"
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(intlLocale, { timeZone, dateStyle: "medium", timeStyle: "medium" })
}

/** An instant in the given zone, the zone named: "5 lis 2025, 13:00:01 (Europe/Warsaw)". */
const formatZoned = (iso, timeZone) => (iso ? `${formatDateTime(iso, timeZone)} (${timeZone})` : "—")

/** Text comparison in the page's language (Polish letters sort where Poles expect them). */
const compareText = (a, b) => String(a).localeCompare(String(b), intlLocale)

return Object.freeze({ lang, t, plural, splitDecimal, roundDecimal, formatCount, formatDecimal, formatPln, formatPlnExact, formatUsdExact, formatUsd, decimalKey, formatDay, formatDayShort, monthName, formatDateTime, formatZoned, compareText })
})()
