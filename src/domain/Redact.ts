/**
 * Credentials written into a URL (`https://user:pass@host`) are masked wherever a URL may be
 * shown: configuration errors and log lines. A password may itself hold `/`, `@`, `:` or `?`
 * (`https://user:p/ss@host` does not even parse as a URL), so everything between the scheme's
 * `//` and the *last* `@` of the value is masked: masking too much is harmless, too little is not.
 */

const IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi

/** A configuration value as it may be shown in an error: credentials masked, whatever its shape. */
export const maskUrl = (value: string): string => {
  const at = value.lastIndexOf("@")
  if (at === -1) return value
  const scheme = value.indexOf("://")
  // `user:pass@host` without a scheme: everything before the last `@` may be a credential.
  if (scheme === -1 || scheme > at) return `***${value.slice(at)}`
  return `${value.slice(0, scheme + 3)}***${value.slice(at)}`
}

/** Any text (a log line, an error message): each URL's userinfo is masked. */
export const maskUrlsIn = (text: string): string => text.replace(IN_TEXT, "$1***@")
