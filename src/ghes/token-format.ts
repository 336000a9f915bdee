/**
 * Which strings GitHub could have issued as a token that an app's check can find. A token in no
 * such format is inactive without asking GHES: GHES would only answer 404, and every question
 * that reaches GHES costs the caller's budget and GHES's capacity.
 *
 * GitHub's formats (GitHub changelog 2021-03-04 and blog "Behind GitHub's new authentication
 * token formats", 2021-04-05): a type prefix, then 36 characters of [A-Za-z0-9] (30 random and a
 * 6-character CRC32 checksum, which is not verified here: its exact encoding is not documented).
 *   gho_  OAuth-app user token          ghu_  GitHub-App user-to-server token
 *   ghs_  GitHub-App installation token ghr_  GitHub-App refresh token
 *   ghp_  classic personal access token github_pat_  fine-grained PAT (82 characters after it)
 * GHES issues them from 3.2 on (GitHub's docs switch their examples at `enterprise-server@3.1`:
 * github/docs commit 9b06573, "Document GitHub's new token formats"). Before, tokens were 40
 * lower-case hex characters, and such tokens stay valid after an upgrade, so that format is
 * possible on every release. Prefixed tokens are not refused on older releases: GHES_VERSION may
 * lag an upgrade, and a wrongly refused token is an outage while a wrongly asked one costs a
 * budgeted GHES call.
 *
 * Only the app's own user tokens can be checked (POST /applications/{client_id}/token): `gho_`
 * for an OAuth app, `ghu_` for a GitHub App (scoped tokens are `ghu_` too), and legacy hex for
 * either. PATs, installation and refresh tokens are never an app's user token, so GHES answers
 * 404 for them: inactive here as well.
 */
import type { AppKind } from '../config/types';

export type TokenFormat =
  | 'oauth'
  | 'user-to-server'
  | 'installation'
  | 'refresh'
  | 'personal'
  | 'fine-grained-personal'
  | 'legacy-hex';

const FORMATS: readonly (readonly [TokenFormat, RegExp])[] = [
  ['oauth', /^gho_[A-Za-z0-9]{36}$/],
  ['user-to-server', /^ghu_[A-Za-z0-9]{36}$/],
  // Installation tokens are growing into `ghs_<app id>_<JWT>` on github.com: any length.
  ['installation', /^ghs_[A-Za-z0-9._]{36,}$/],
  ['refresh', /^ghr_[A-Za-z0-9]{36,}$/],
  ['personal', /^ghp_[A-Za-z0-9]{36}$/],
  ['fine-grained-personal', /^github_pat_[A-Za-z0-9_]{82}$/],
  ['legacy-hex', /^[0-9a-f]{40}$/],
];

/** The GitHub token format `token` has, or undefined when it has none. */
export function tokenFormatOf(token: string): TokenFormat | undefined {
  for (const [format, pattern] of FORMATS) if (pattern.test(token)) return format;
  return undefined;
}

const CHECKABLE: Readonly<Record<AppKind, readonly TokenFormat[]>> = {
  oauth_app: ['oauth', 'legacy-hex'],
  github_app: ['user-to-server', 'legacy-hex'],
};

/** Whether `token` could be a user token of an app of this kind, and so worth asking GHES about. */
export function couldBeAppToken(token: string, kind: AppKind): boolean {
  const format = tokenFormatOf(token);
  return format !== undefined && CHECKABLE[kind].includes(format);
}
