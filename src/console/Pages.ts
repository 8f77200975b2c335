/**
 * The console's HTML shells: the login form and the fleet page, Polish unless `?lang=en`. Data is
 * never rendered here: the page's script reads the console's own JSON API with the session cookie,
 * which never carries anything of a client's but its figures.
 */
import * as Fs from "node:fs"
import { escapeHtml, page } from "../dashboard/Pages.js"
import { assetPath } from "../platform/Assets.js"

export type Lang = "pl" | "en"

const LABELS: Record<Lang, Record<string, string>> = JSON.parse(Fs.readFileSync(assetPath("console/labels.json"), "utf8"))

export const label = (lang: Lang, key: string, vars: Record<string, string> = {}) =>
  (LABELS[lang][key] ?? LABELS.en[key] ?? key).replace(/\{(\w+)\}/g, (all, k: string) => vars[k] ?? all)

/** The dashboard's page shell, with the console's style sheet. */
const consolePage = (lang: Lang, title: string, body: string, scripts: ReadonlyArray<string> = []) =>
  page(title, body, scripts, lang, "", "console.css")

export const loginPage = (lang: Lang, error?: string) => {
  const L = (key: string) => escapeHtml(label(lang, key))
  return consolePage(lang, label(lang, "login.title"), `<body class="login">
<main>
  <p class="small"><a href="/?lang=${L("switchLang")}" lang="${L("switchLang")}">${L("switchTo")}</a></p>
  <h1>mai-usage console</h1>
  <p>${L("login.intro")} (<code>CONSOLE_ADMIN_TOKEN</code>).</p>
  ${error === undefined ? "" : `<p class="alert" role="alert" id="login-error">${escapeHtml(error)}</p>`}
  <form method="post" action="/login${lang === "en" ? "?lang=en" : ""}">
    <label for="token">${L("login.token")}</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">${L("login.submit")}</button>
  </form>
</main>
</body>`)
}

/** JSON inside a `<script type="application/json">`: no `<` can end the element early. */
const jsonData = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c")

export const fleetPage = (lang: Lang, month: string) => {
  const L = (key: string) => escapeHtml(label(lang, key))
  const other = label(lang, "switchLang")
  return consolePage(lang, label(lang, "title"), `<body>
<script type="application/json" id="labels">${jsonData(LABELS[lang])}</script>
<header>
  <h1>${L("heading")}</h1>
  <nav>
    <a href="/?lang=${escapeHtml(other)}&amp;month=${escapeHtml(month)}" id="lang-switch" lang="${escapeHtml(other)}">${L("switchTo")}</a>
    <form method="post" action="/logout${lang === "en" ? "?lang=en" : ""}"><button type="submit">${L("logout")}</button></form>
  </nav>
</header>
<main data-lang="${lang}">
  <form id="controls" class="controls">
    <label>${L("month")} <input type="month" id="month" name="month" value="${escapeHtml(month)}" required></label>
    <button type="submit">${L("show")}</button>
    <button type="button" id="refresh">${L("refresh")}</button>
    <label>${L("filter")} <input type="search" id="filter" placeholder="${L("filterPlaceholder")}"></label>
    <label>${L("stateFilter")} <select id="state-filter">
      <option value="">${L("stateAll")}</option>
      <option value="open">${L("stateOpen")}</option>
      <option value="closable">${L("stateClosable")}</option>
      <option value="closed">${label(lang, "stateClosed", { at: "", by: "" }).replace(/\s*\(\)\s*$/, "").trim()}</option>
      <option value="error">${L("unreachable")} / ${L("failing")}</option>
    </select></label>
    <a id="csv" href="#" download>${L("csv")}</a>
    <a id="csv-excel" href="#" download>${L("csvExcel")}</a>
  </form>
  <p id="registry-error" class="alert" role="alert" hidden></p>
  <p id="status" role="status" aria-live="polite">${L("loading")}</p>
  <div class="table-wrap">
  <table id="fleet">
    <thead><tr>
      <th scope="col"><input type="checkbox" id="select-all" aria-label="${L("selectAll")}"></th>
      <th scope="col" data-sort="client">${L("colClient")}</th>
      <th scope="col" data-sort="billedPln" class="num">${L("colBilled")}</th>
      <th scope="col" data-sort="billedUsd" class="num">${L("colUsd")}</th>
      <th scope="col" data-sort="openRouterPln" class="num">${L("colCost")}</th>
      <th scope="col" data-sort="marginPln" class="num">${L("colMargin")}</th>
      <th scope="col" data-sort="marginPercent" class="num">${L("colMarginPct")}</th>
      <th scope="col" data-sort="state">${L("colState")}</th>
      <th scope="col" data-sort="recon">${L("colRecon")}</th>
      <th scope="col" data-sort="lastRun">${L("colLastRun")}</th>
      <th scope="col" data-sort="ready">${L("colReady")}</th>
      <th scope="col" data-sort="pendingCosts" class="num">${L("colPending")}</th>
      <th scope="col" data-sort="quarantinedRows" class="num">${L("colQuarantine")}</th>
      <th scope="col" data-sort="alerts" class="num">${L("colAlerts")}</th>
    </tr></thead>
    <tbody></tbody>
    <tfoot><tr id="totals"></tr></tfoot>
  </table>
  </div>
  <section id="actions" aria-labelledby="actions-h">
    <h2 id="actions-h">${L("actions")}</h2>
    <form id="close-form">
      <label><input type="checkbox" id="accept"> ${L("accept")}</label>
      <label>${L("reason")} <input type="text" id="reason" maxlength="500"></label>
      <button type="submit" id="close">${L("closeSelected")}</button>
    </form>
    <ul id="close-results"></ul>
    <p><button type="button" id="zip">${L("zip")}</button></p>
    <p id="zip-status" role="status" aria-live="polite"></p>
    <progress id="zip-progress" max="1" value="0" hidden></progress>
    <p><a id="zip-link" hidden download>${L("zipDownload")}</a></p>
  </section>
</main>
</body>`, ["console.js"])
}
