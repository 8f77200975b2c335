/**
 * The largest body the server reads on each path, apart from the webhook (`MAX_BODY_BYTES`).
 * A declared `Content-Length` above the limit is refused with 413 before a byte is read; a
 * chunked body is cut off when it passes the limit. Nothing reads an unbounded body.
 */
export const LOGIN_BODY_LIMIT = 4 * 1024
/** Every other body: API requests carry parameters in the URL or a small JSON document. */
export const API_BODY_LIMIT = 64 * 1024

export const bodyLimitFor = (path: string): number => (path === "/login" ? LOGIN_BODY_LIMIT : API_BODY_LIMIT)
