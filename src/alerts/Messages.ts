/**
 * An alert's words, Polish by default (ALERT_LANGUAGE=en for English): who the budget is for, the
 * month, the threshold reached, the spend against the amount, and what it means for the client's
 * admin. Amounts are written the Polish way in Polish ("1 600,00 zł").
 */
import type { AlertMessage } from "./Channels.js"

export interface AlertFacts {
  readonly clientOrgId: string
  readonly clientName: string
  readonly scope: "client" | "group" | "user"
  readonly subject: string
  readonly name: string | null
  readonly email: string | null
  readonly month: string
  readonly threshold: number
  readonly spendPln: string
  readonly amountPln: string
  readonly at: string
}

const plAmount = (decimal: string) => {
  const [int, frac = "00"] = decimal.replace(/^-/, "").split(".")
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0")
  return `${decimal.startsWith("-") ? "-" : ""}${grouped},${frac.padEnd(2, "0")}\u00a0zł`
}

const who = (f: AlertFacts, lang: "pl" | "en") => {
  const person = f.name !== null && f.name !== "" ? `${f.name}${f.email !== null && f.email !== "" ? ` (${f.email})` : ""}` : f.subject
  if (lang === "pl") {
    return f.scope === "client" ? `klienta ${f.clientName}` : f.scope === "group" ? `grupy „${f.name ?? f.subject}”` : `użytkownika ${person}`
  }
  return f.scope === "client" ? `client ${f.clientName}` : f.scope === "group" ? `group "${f.name ?? f.subject}"` : `user ${person}`
}

const meaning = (threshold: number, lang: "pl" | "en") =>
  lang === "pl"
    ? threshold >= 100
      ? "Budżet na ten miesiąc został wyczerpany. Dalsze użycie zwiększa koszt ponad budżet (chyba że włączono blokadę kluczy OpenRouter)."
      : `Wykorzystano ${threshold} % budżetu na ten miesiąc. To ostrzeżenie: użycie nie jest ograniczane.`
    : threshold >= 100
    ? "This month's budget is spent. Further use costs more than the budget (unless the OpenRouter keys' limit is enforced)."
    : `${threshold} % of this month's budget is spent. This is a warning: usage is not limited.`

export const alertMessage = (f: AlertFacts, lang: "pl" | "en"): AlertMessage => {
  const text = lang === "pl"
    ? `Budżet ${who(f, "pl")} na ${f.month}: osiągnięto ${f.threshold} % — wydano ${plAmount(f.spendPln)} z ${plAmount(f.amountPln)}.`
    : `Budget of ${who(f, "en")} for ${f.month}: ${f.threshold} % reached — PLN ${f.spendPln} spent of PLN ${f.amountPln}.`
  const subject = lang === "pl"
    ? `[mai-usage ${f.clientOrgId}] Budżet ${who(f, "pl")}: ${f.threshold} % (${f.month})`
    : `[mai-usage ${f.clientOrgId}] Budget of ${who(f, "en")}: ${f.threshold} % (${f.month})`
  const details = lang === "pl"
    ? [
      meaning(f.threshold, "pl"),
      "",
      `Wydatki to koszt zafakturowanych dni miesiąca oraz szacunek dni jeszcze nierozliczonych (ostatni kurs NBP i bieżąca marża).`,
      `Każdy próg jest zgłaszany raz w miesiącu; nowy miesiąc zaczyna liczenie od zera.`,
      `Organizacja: ${f.clientOrgId}. Czas: ${f.at}.`
    ]
    : [
      meaning(f.threshold, "en"),
      "",
      "Spend is the month's billed days plus an estimate of the days not yet billed (the latest NBP rate and the markup in force).",
      "Each threshold is alerted once a month; a new month starts from zero.",
      `Organisation: ${f.clientOrgId}. Time: ${f.at}.`
    ]
  return {
    text,
    subject,
    details,
    fields: {
      clientOrgId: f.clientOrgId,
      scope: f.scope,
      subject: f.subject,
      name: f.name,
      email: f.email,
      month: f.month,
      threshold: f.threshold,
      spendPln: f.spendPln,
      amountPln: f.amountPln,
      at: f.at
    }
  }
}
