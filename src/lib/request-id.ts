/**
 * Whether an incoming `X-Request-Id` may be reused as this request's id. Trust boundary: the value
 * comes from the client (or its proxy), and a reused id is echoed on the answer, put in problem
 * bodies and written to every log line of the request. So it is reused only when it is plainly an
 * id, and never when any part of it looks like a credential: a confused client may send a token
 * there, or a whole id may be built around one (`v1.<40 hex>`, `x<40 hex>`, `<40 hex>.1`).
 * A refused id is replaced by a fresh UUID; a false positive costs nothing but the correlation.
 */

/** Characters ids are made of, and a length that fits a trace id with room to spare. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A credential-shaped run ANYWHERE in the id (not only at its start), case-insensitively:
 * - `gh?_`: GitHub token prefixes (`gho_`, `ghu_`, `ghs_`, `ghr_`, `ghp_`, and any future letter);
 * - `github_pat_`: fine-grained personal access tokens;
 * - 40 hex: classic tokens of older GHES releases, OAuth-app client secrets, GitHub-App client
 *   secrets, `v1.`-style installation tokens;
 * - 36 or more letters and digits in a row: the body of a prefixed token (36 base62), and most
 *   random secrets. No common id format has such a run: UUIDs (8-4-4-4-12), ULIDs (26), W3C trace
 *   ids (32 hex) and `traceparent` (dash-separated) all stay below it.
 */
const SECRET_SHAPED = /gh[a-z]_|github_pat_|[0-9a-f]{40}|[a-z0-9]{36}/i;

export function isReusableRequestId(value: string | undefined): value is string {
  return value !== undefined && REQUEST_ID.test(value) && !SECRET_SHAPED.test(value);
}
