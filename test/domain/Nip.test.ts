/** The Polish NIP check digit (src/domain/Nip.ts). */
import { describe, expect, it } from "@effect/vitest"
import { isValidNip, NIP_RULE } from "../../src/domain/Nip.js"

describe("isValidNip", () => {
  it("accepts NIPs whose check digit is right", () => {
    // 5260250274: 5·6+2·5+6·7+0·2+2·3+5·4+0·5+2·6+7·7 = 169; 169 mod 11 = 4.
    for (const nip of ["5260250274", "1234563218", "7010013284", "9512345675", "0000000000"]) {
      expect(isValidNip(nip), nip).toBe(true)
    }
  })

  it("refuses a wrong check digit: every other last digit of a valid NIP", () => {
    for (let d = 0; d <= 9; d++) {
      if (d === 4) continue
      expect(isValidNip(`526025027${d}`)).toBe(false)
    }
  })

  it("refuses a NIP whose weighted sum is 10 modulo 11, whatever its last digit", () => {
    // 1·6+2·5+3·7+4·2+5·3+6·4+7·5+8·6+9·7 = 230; 230 mod 11 = 10: no check digit fits.
    for (let d = 0; d <= 9; d++) expect(isValidNip(`123456789${d}`)).toBe(false)
  })

  it("refuses anything but exactly 10 ASCII digits", () => {
    for (
      const text of [
        "",
        "526025027",
        "52602502740",
        "526-025-02-74",
        "526 025 02 74",
        "PL5260250274",
        " 5260250274",
        "5260250274\n",
        "５２６０２５０２７４",
        "526025027a"
      ]
    ) expect(isValidNip(text), JSON.stringify(text)).toBe(false)
  })

  it("has a one-line rule naming the weights", () => {
    expect(NIP_RULE).not.toContain("\n")
    expect(NIP_RULE).toContain("6,5,7,2,3,4,5,6,7")
  })
})
