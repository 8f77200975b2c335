/**
 * A client organisation's id (`CLIENT_ORG_ID`): it tags every event and filters every query, so
 * two different ids must never become one value anywhere (an InfluxDB tag, a file name, a cookie
 * name). Only letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64.
 */
export const ORG_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const ORG_ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

export const isOrgId = (value: string): boolean => ORG_ID_PATTERN.test(value)
