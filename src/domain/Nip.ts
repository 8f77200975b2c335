/**
 * A Polish tax identification number (NIP): exactly 10 digits, the last a check digit.
 * The first nine digits weighted 6, 5, 7, 2, 3, 4, 5, 6, 7, summed, modulo 11 give the tenth; a
 * remainder of 10 is never issued, so such a number is invalid. Only the digits are accepted: no
 * dashes, spaces or "PL" prefix, so a NIP is spelt one way everywhere (invoices, configuration).
 */

const WEIGHTS = [6, 5, 7, 2, 3, 4, 5, 6, 7] as const

export const NIP_RULE =
  "a Polish NIP: 10 digits without dashes or spaces, the last being the check digit (digits 1–9 weighted 6,5,7,2,3,4,5,6,7, summed, modulo 11; 10 is never valid)"

export const isValidNip = (text: string): boolean => {
  if (!/^\d{10}$/.test(text)) return false
  const sum = WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(text[i]), 0)
  const check = sum % 11
  return check !== 10 && check === Number(text[9])
}
