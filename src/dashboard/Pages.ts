/**
 * The dashboard's HTML shells. Data is never rendered here: the page's own script fetches the JSON
 * API with the session cookie, so the browser sees exactly what an API client sees.
 */
import * as Fs from "node:fs"
import { assetPath } from "../platform/Assets.js"

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

export type Lang = "pl" | "en"
/** The dashboard's language, once chosen with `?lang=`. */
export const LANG_COOKIE = "mai_lang"

/**
 * `scripts`: files under /assets/, run in this order once the page is parsed (deferred); `head`:
 * more of the head before them; `stylesheet`: the page's style sheet under /assets/ (the console has its own).
 */
export const page = (title: string, body: string, scripts: ReadonlyArray<string> = [], lang: Lang = "en", head = "", stylesheet = "dashboard.css") => `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${stylesheet}">
${head}${scripts.map((file) => `<script src="/assets/${file}" defer></script>\n`).join("")}</head>
${body}
</html>
`

/**
 * Every label of the dashboard, the shell's and its scripts', in both languages: labels.json. The
 * shell is rendered with them; the page carries them (as data, not script) for assets/locale.js.
 */
const readLabels = (file: string): Record<Lang, Record<string, string>> => JSON.parse(Fs.readFileSync(assetPath(file), "utf8"))
const LABELS: Record<Lang, Record<string, string>> = (() => {
  // The budgets' and the directory's labels are kept in their own file, merged here.
  const [main, budgets] = [readLabels("dashboard/labels.json"), readLabels("dashboard/labels-budgets.json")]
  return { pl: { ...main.pl, ...budgets.pl }, en: { ...main.en, ...budgets.en } }
})()

/** The label `key` of labels.json in `lang`, with `{name}` placeholders filled from `vars` (not escaped). */
export const label = (lang: Lang, key: string, vars: Record<string, string> = {}) =>
  (LABELS[lang][key] ?? LABELS.en[key] ?? key).replace(/\{(\w+)\}/g, (all, k: string) => vars[k] ?? all)

/** Made on first use (ICU's plural data is not loaded by a server whose login page is never throttled). */
const secondRules: Partial<Record<Lang, Intl.PluralRules>> = {}
/** "30 sekund" / "30 seconds": a count of seconds in `lang`. */
export const secondsText = (lang: Lang, n: number) =>
  `${n} ${label(lang, `login.seconds.${(secondRules[lang] ??= new Intl.PluralRules(lang === "pl" ? "pl-PL" : "en-GB")).select(n)}`)}`

/**
 * The login form, Polish unless `lang` is "en"; the English form posts to `/login?lang=en`, so
 * its answers (errors, and the dashboard after a login) stay English.
 */
export const loginPage = (options: { readonly clientOrgId: string; readonly error?: string; readonly lang?: Lang }) => {
  const lang = options.lang ?? "pl"
  const L = LABELS[lang]
  const org = escapeHtml(options.clientOrgId)
  return page(
    label(lang, "login.title", { org: options.clientOrgId }),
    `<body class="login">
<main>
  <p class="small"><a href="/?lang=${L.switchLang}" id="lang-switch" lang="${L.switchLang}" hreflang="${L.switchLang}">${L.switchTo}</a></p>
  <h1>mai-usage <span class="org">${org}</span></h1>
  <p>${label(lang, "login.intro", { org })} (<code>ADMIN_TOKEN</code>).</p>
  ${
      options.error === undefined
        ? ""
        : `<p class="alert error" role="alert" id="login-error">${escapeHtml(options.error)}</p>`
    }
  <form method="post" action="/login${lang === "en" ? "?lang=en" : ""}">
    <label for="token">${L["login.token"]}</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
      ${options.error === undefined ? "" : `aria-describedby="login-error" aria-invalid="true"`}>
    <button type="submit">${L["login.submit"]}</button>
  </form>
  <p class="small"><a href="/docs">${L["login.docs"]}</a></p>
</main>
</body>`,
    [],
    lang
  )
}

/** JSON inside a `<script type="application/json">`: no `<` can end the element early. */
const jsonInHtml = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c")

/** A card of the month's report: `<id>-h` is its heading, filled by the script. */
const card = (id: string, title: string, content: string) => `<section aria-labelledby="${id}-h" class="card">
      <h2 id="${id}-h">${title}</h2>
      ${content}
    </section>`
const sortableTable = (name: string) => `<div class="scroll"><table id="${name}-table" class="sortable"></table></div>`

export interface DashboardSettings {
  readonly lang: Lang
  readonly clientOrgId: string
  readonly defaultMonth: string
  readonly timeZone: string
  readonly batchTime: string
  readonly batchEnabled: boolean
}

/** The people-and-groups card (the month's) and the budgets-and-alerts card; filled by people.js and budgets.js. */
const budgetCards = (L: Record<string, string>) => `
  <section aria-labelledby="people-h" class="card" id="people">
    <h2 id="people-h">${L["people.title"]}</h2>
    <div id="people-body"><p>${L.loading}</p></div>
  </section>

  <section aria-labelledby="budgets-h" class="card" id="budgets">
    <h2 id="budgets-h">${L["budgets.title"]}</h2>
    <div id="budgets-body"><p>${L.loading}</p></div>
    <form id="budget-form" class="budget-form">
      <label>${L["budgets.scopeField"]} <select name="scope">
        <option value="client">${L["budgets.client"]}</option>
        <option value="group">${L["budgets.groupScope"]}</option>
        <option value="user">${L["budgets.userScope"]}</option>
      </select></label>
      <label>${L["budgets.subjectField"]} <input name="subject" autocomplete="off"></label>
      <label>${L["budgets.amount"]} <input name="amountPln" inputmode="decimal" required></label>
      <label>${L["budgets.thresholds"]} <input name="thresholds" value="50, 80, 100"></label>
      <button type="submit">${L["budgets.set"]}</button>
      <span id="budget-form-status" role="status" class="small"></span>
    </form>
    <h3>${L["budgets.alerts"]}</h3>
    <div id="alerts-body"></div>
  </section>`

export const dashboardPage = (s: DashboardSettings) => {
  const L = LABELS[s.lang]
  return page(
    `${L.title} — ${s.clientOrgId}`,
    `<body data-default-month="${escapeHtml(s.defaultMonth)}" data-time-zone="${escapeHtml(s.timeZone)}"
  data-batch-time="${escapeHtml(s.batchTime)}" data-batch-enabled="${s.batchEnabled}">
<header class="top">
  <h1>${L.title} <span class="org">${escapeHtml(s.clientOrgId)}</span></h1>
  <nav>
    <a href="?lang=${L.switchLang}" id="lang-switch" lang="${L.switchLang}" hreflang="${L.switchLang}">${L.switchTo}</a>
    <a href="/docs">${L.api}</a>
    <form method="post" action="/logout"><button type="submit" class="link">${L.logout}</button></form>
  </nav>
</header>
<main>
  <form class="month-picker" id="month-form" role="search" aria-label="${L.chooseMonth}">
    <button type="button" id="prev-month" aria-label="${L.prev}">&lsaquo;</button>
    <label for="month">${L.month}</label>
    <input type="month" id="month" name="month" value="${escapeHtml(s.defaultMonth)}" required>
    <button type="button" id="next-month" aria-label="${L.next}">&rsaquo;</button>
  </form>

  <div id="status" role="status" aria-live="polite"></div>

  <div id="report" hidden>
    <section aria-labelledby="totals-h" class="card">
      <h2 id="totals-h">${L.totalFor} <span id="month-name"></span></h2>
      <dl class="totals">
        <div><dt>${L.pln}</dt><dd id="total-pln"></dd></div>
        <div><dt>${L.usd}</dt><dd id="total-usd"></dd></div>
        <div><dt>${L.requests}</dt><dd id="total-requests"></dd></div>
        <div><dt>${L.tokens}</dt><dd id="total-tokens"></dd></div>
      </dl>
      <p class="small">${L.rule}</p>
    </section>

    ${card("chart", L.chart, `<div id="chart"></div>`)}

    ${card("users", L.users, sortableTable("users"))}

    ${card("models", L.models, sortableTable("models"))}

    ${card("days", L.days, sortableTable("days"))}

    ${card("downloads", L.csv, `<p class="downloads" id="downloads"></p>`)}
  </div>

  <section aria-labelledby="unbilled-h" class="card" id="unbilled" hidden>
    <h2 id="unbilled-h">${L.unbilled}</h2>
    <div id="unbilled-body"></div>
  </section>

  <section aria-labelledby="batch-h" class="card" id="batch">
    <h2 id="batch-h">${L.batch}</h2>
    <div id="batch-body"><p>${L.loading}</p></div>
  </section>

  <section aria-labelledby="today-h" class="card" id="today">
    <h2 id="today-h">${L.today} <span class="badge">${L.notBilled}</span></h2>
    <div id="today-body"><p>${L.loading}</p></div>
    <p class="small" id="today-drift"></p>
  </section>

  <section aria-labelledby="reconciliation-h" class="card" id="reconciliation">
    <h2 id="reconciliation-h">${L.recon}</h2>
    <div id="reconciliation-body"><p>${L.loading}</p></div>
  </section>
${budgetCards(L)}
</main>
<link rel="stylesheet" href="/assets/accounting.css">
<link rel="stylesheet" href="/assets/budgets.css">
</body>`,
    ["locale.js", "dom.js", "api.js", "tables.js", "chart.js", "dashboard.js", "accounting.js", "reconciliation.js", "people.js", "budgets.js"],
    s.lang,
    `<script type="application/json" id="mai-labels">${jsonInHtml(LABELS)}</script>\n`
  )
}

/**
 * The printable statement of a month, in `lang`; its script (dom.js, tables.js, statement.js, and
 * no locale.js) fetches the statement's document in that language: the same text the PDF draws.
 */
export const statementPage = (lang: Lang = "pl") =>
  page(
    label(lang, "st.title"),
    `<body class="statement">
<link rel="stylesheet" href="/assets/accounting.css">
<main id="statement"><p>${label(lang, "st.loading")}</p></main>
<script type="application/json" id="mai-statement-labels">${jsonInHtml(statementLabels(lang))}</script>
</body>`,
    ["dom.js", "tables.js", "statement.js"],
    lang
  )

/** The labels statement.js needs (it loads no locale.js): every `st.` key of labels.json in `lang`. */
const statementLabels = (lang: Lang) =>
  Object.fromEntries(Object.keys(LABELS.en).filter((k) => k.startsWith("st.")).map((k) => [k, label(lang, k)]))

export const docsPage = () =>
  page(
    "mai-usage API",
    `<body class="docs">
<header class="top"><h1>mai-usage API</h1><nav><a href="/">Dashboard</a> <a href="/api/v1/openapi.json">openapi.json</a></nav></header>
<main id="docs"><p>Loading the OpenAPI description…</p></main>
</body>`,
    ["dom.js", "docs.js"]
  )
