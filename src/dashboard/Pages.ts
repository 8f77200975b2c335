/**
 * The dashboard's HTML shells. Data is never rendered here: the page's own script fetches the JSON
 * API with the session cookie, so the browser sees exactly what an API client sees.
 */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const page = (title: string, body: string, script?: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
${script === undefined ? "" : `<script src="${script}" defer></script>`}
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

export interface DashboardSettings {
  readonly clientOrgId: string
  readonly defaultMonth: string
  readonly timeZone: string
  readonly batchTime: string
  readonly batchEnabled: boolean
}

export const dashboardPage = (s: DashboardSettings) =>
  page(
    `Usage and costs — ${s.clientOrgId}`,
    `<body data-default-month="${escapeHtml(s.defaultMonth)}" data-time-zone="${escapeHtml(s.timeZone)}"
  data-batch-time="${escapeHtml(s.batchTime)}" data-batch-enabled="${s.batchEnabled}">
<header class="top">
  <h1>Usage and costs <span class="org">${escapeHtml(s.clientOrgId)}</span></h1>
  <nav>
    <a href="/docs">API</a>
    <form method="post" action="/logout"><button type="submit" class="link">Log out</button></form>
  </nav>
</header>
<main>
  <form class="month-picker" id="month-form" role="search" aria-label="Choose a month">
    <button type="button" id="prev-month" aria-label="Previous month">&lsaquo;</button>
    <label for="month">Month</label>
    <input type="month" id="month" name="month" value="${escapeHtml(s.defaultMonth)}" required>
    <button type="button" id="next-month" aria-label="Next month">&rsaquo;</button>
  </form>

  <div id="status" role="status" aria-live="polite"></div>

  <div id="report" hidden>
    <section aria-labelledby="totals-h" class="card">
      <h2 id="totals-h">Total for <span id="month-name"></span></h2>
      <dl class="totals">
        <div><dt>Cost in PLN</dt><dd id="total-pln"></dd></div>
        <div><dt>Cost in USD</dt><dd id="total-usd"></dd></div>
        <div><dt>Requests</dt><dd id="total-requests"></dd></div>
        <div><dt>Tokens</dt><dd id="total-tokens"></dd></div>
      </dl>
      <p class="small">PLN = USD × markup × the NBP table A rate of each usage day, rounded per row; totals are sums of the rows.</p>
    </section>

    <section aria-labelledby="chart-h" class="card">
      <h2 id="chart-h">Cost per day (PLN)</h2>
      <div id="chart"></div>
    </section>

    <section aria-labelledby="users-h" class="card">
      <h2 id="users-h">Per user</h2>
      <div class="scroll"><table id="users-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="models-h" class="card">
      <h2 id="models-h">Per model</h2>
      <div class="scroll"><table id="models-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="days-h" class="card">
      <h2 id="days-h">Per day, with the NBP table used</h2>
      <div class="scroll"><table id="days-table" class="sortable"></table></div>
    </section>

    <section aria-labelledby="downloads-h" class="card">
      <h2 id="downloads-h">Download CSV</h2>
      <p class="downloads" id="downloads"></p>
    </section>
  </div>

  <section aria-labelledby="batch-h" class="card" id="batch">
    <h2 id="batch-h">Last batch run</h2>
    <div id="batch-body"><p>Loading…</p></div>
  </section>

  <section aria-labelledby="today-h" class="card" id="today">
    <h2 id="today-h">Today so far <span class="badge">not yet billed</span></h2>
    <div id="today-body"><p>Loading…</p></div>
    <p class="small" id="today-drift"></p>
  </section>

  <section aria-labelledby="reconciliation-h" class="card" id="reconciliation">
    <h2 id="reconciliation-h">Check against OpenRouter</h2>
    <div id="reconciliation-body"><p>Loading…</p></div>
  </section>
</main>
<link rel="stylesheet" href="/assets/accounting.css">
<script src="/assets/accounting.js" defer></script>
<script src="/assets/reconciliation.js" defer></script>
</body>`,
    "/assets/dashboard.js"
  )

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
