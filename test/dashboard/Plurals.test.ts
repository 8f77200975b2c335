/**
 * "Spróbuj ponownie za 5 sekund": the login throttle's count of seconds, in Polish plural forms and
 * in English (the plural rules are made on first use).
 */
import { describe, expect, it } from "vitest"
import { secondsText } from "../../src/dashboard/Pages.js"

describe("secondsText", () => {
  it("uses the Polish plural forms", () => {
    expect(secondsText("pl", 1)).toBe("1 sekundę")
    expect(secondsText("pl", 3)).toBe("3 sekundy")
    expect(secondsText("pl", 5)).toBe("5 sekund")
    expect(secondsText("pl", 22)).toBe("22 sekundy")
    expect(secondsText("pl", 30)).toBe("30 sekund")
  })
  it("and the English ones", () => {
    expect(secondsText("en", 1)).toBe("1 second")
    expect(secondsText("en", 30)).toBe("30 seconds")
    // each language keeps its own rules after the other was used
    expect(secondsText("pl", 2)).toBe("2 sekundy")
  })
})
