/**
 * Whether caller-chosen text may be repeated in an answer or a log line. Trust boundary: a
 * confused or hostile client may put a token where a name belongs (a JSON key, an app name, a JWT
 * `kid`), so anything with a credential-shaped run ANYWHERE in it is withheld, case-insensitively:
 * - `gh?_`: GitHub token prefixes (`gho_`, `ghu_`, `ghs_`, `ghr_`, `ghp_`, and any future letter);
 * - `github_pat_`: fine-grained personal access tokens;
 * - 40 hex: classic tokens of older GHES releases, client secrets, `v1.`-style installation tokens;
 * - 36 or more letters and digits in a row: the body of a prefixed token (36 base62), and most
 *   random secrets. No id or name format we echo has such a run (UUIDs, ULIDs, trace ids, field
 *   and app names all stay below it).
 */
const SECRET_SHAPED = /gh[a-z]_|github_pat_|[0-9a-f]{40}|[a-z0-9]{36}/i;

export function looksSecret(value: string): boolean {
  return SECRET_SHAPED.test(value);
}

/** What stands in for withheld text. */
export const WITHHELD = '(withheld)';

/** `value` as it may be echoed: credential-shaped text withheld, the rest cut to `max` chars. */
export function echoable(value: string, max = 100): string {
  if (looksSecret(value)) return WITHHELD;
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
