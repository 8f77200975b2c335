/**
 * The dashboard's HTML shells. Data is never rendered here: the page's own script fetches the JSON
 * API with the session cookie, so the browser sees exactly what an API client sees.
 */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

export type Lang = "pl" | "en"
/** The dashboard's language, once chosen with `?lang=`. */
export const LANG_COOKIE = "mai_lang"

const page = (title: string, body: string, script?: string, lang: Lang = "en") => `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
${script === "/assets/dashboard.js" ? `<script src="/assets/locale.js" defer></script>\n` : ""}${
  script === undefined ? "" : `<script src="${script}" defer></script>`
}
</head>
${body}
</html>
`

export const loginPage = (options: { readonly clientOrgId: string; readonly error?: string }) =>
  page(
    `Log in — mai-usage (${options.clientOrgId})`,
    `<body class="login">
<main>
  <h1>mai-usage <span class="org">${escapeHtml(options.clientOrgId)}</span></h1>
  <p>Usage and costs of ${escapeHtml(options.clientOrgId)}. Log in with the admin token (<code>ADMIN_TOKEN</code>).</p>
  ${
      options.error === undefined
        ? ""
        : `<p class="alert error" role="alert" id="login-error">${escapeHtml(options.error)}</p>`
    }
  <form method="post" action="/login">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
      ${options.error === undefined ? "" : `aria-describedby="login-error" aria-invalid="true"`}>
    <button type="submit">Log in</button>
  </form>
  <p class="small"><a href="/docs">API documentation</a></p>
</main>
</body>`
  )

/** The shell's labels; the script's own are in assets/locale.js and assets/dashboard.js. */
const LABELS = {
  pl: {
    title: "Zużycie i koszty", api: "API", logout: "Wyloguj", chooseMonth: "Wybierz miesiąc", prev: "Poprzedni miesiąc",
    next: "Następny miesiąc", month: "Miesiąc", totalFor: "Razem za", pln: "Koszt w PLN", usd: "Koszt w USD",
    requests: "Zapytania", tokens: "Tokeny",
    rule: "PLN = USD × marża × kurs NBP z tabeli A dla dnia użycia, zaokrąglone w każdym wierszu; sumy są sumami wierszy.",
    chart: "Koszt dziennie (PLN)", users: "Według użytkowników", models: "Według modeli", days: "Według dni, z tabelą NBP",
    csv: "Pobierz CSV", unbilled: "Dni z użyciem bez rozliczenia", batch: "Ostatnie uruchomienie rozliczenia",
    today: "Dziś do tej pory", notBilled: "jeszcze nierozliczone", recon: "Porównanie z OpenRouter", loading: "Wczytywanie…",
    switchTo: "English", switchLang: "en"
  },
  en: {
    title: "Usage and costs", api: "API", logout: "Log out", chooseMonth: "Choose a month", prev: "Previous month",
    next: "Next month", month: "Month", totalFor: "Total for", pln: "Cost in PLN", usd: "Cost in USD",
    requests: "Requests", tokens: "Tokens",
    rule: "PLN = USD × markup × the NBP table A rate of each usage day, rounded per row; totals are sums of the rows.",
    chart: "Cost per day (PLN)", users: "Per user", models: "Per model", days: "Per day, with the NBP table used",
    csv: "Download CSV", unbilled: "Days with usage not billed", batch: "Last batch run",
    today: "Today so far", notBilled: "not yet billed", recon: "Check against OpenRouter", loading: "Loading…",
    switchTo: "Polski", switchLang: "pl"
  }
} as const

export interface DashboardSettings {
  readonly lang: Lang
  readonly clientOrgId: string
  readonly defaultMonth: string
  readonly timeZone: string
  readonly batchTime: string
  readonly batchEnabled: boolean
}

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

    <section aria-labelledby="chart-h" class="card">
      <h2 id="chart-h">${L.chart}</h2>
      <div id="chart"></div>
    </section>

    <section aria-labelledby="users-h" class="card">
      <h2 id="users-h">${L.users}</h2>
      <div class="scroll"><table id="users-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="models-h" class="card">
      <h2 id="models-h">${L.models}</h2>
      <div class="scroll"><table id="models-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="days-h" class="card">
      <h2 id="days-h">${L.days}</h2>
      <div class="scroll"><table id="days-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="downloads-h" class="card">
      <h2 id="downloads-h">${L.csv}</h2>
      <p class="downloads" id="downloads"></p>
    </section>
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
</main>
<link rel="stylesheet" href="/assets/accounting.css">
<script src="/assets/accounting.js" defer></script>
<script src="/assets/reconciliation.js" defer></script>
</body>`,
    "/assets/dashboard.js",
    s.lang
  )
}

/** The printable statement of a month; its script fetches the statement's JSON. */
export const statementPage = () =>
  page(
    "Statement — mai-usage",
    `<body class="statement" data-time-zone="">
<link rel="stylesheet" href="/assets/accounting.css">
<main id="statement"><p>Loading the statement…</p></main>
</body>`,
    "/assets/statement.js"
  )

export const docsPage = () =>
  page(
    "mai-usage API",
    `<body class="docs">
<header class="top"><h1>mai-usage API</h1><nav><a href="/">Dashboard</a> <a href="/api/v1/openapi.json">openapi.json</a></nav></header>
<main id="docs"><p>Loading the OpenAPI description…</p></main>
</body>`,
    "/assets/docs.js"
  )
