/**
 * Which strings GitHub could have issued as a token that an app's check can find. A token in no
 * such format is inactive without asking GHES, which would only answer 404.
 *
 * Formats (GitHub changelog 2021-03-04; blog "Behind GitHub's new authentication token formats"):
 * a type prefix, then 36 of [A-Za-z0-9] (the CRC32 checksum in them is not verified: its encoding
 * is undocumented). GHES issues them from 3.2 (github/docs 9b06573); the 40-hex tokens before
 * stay valid after an upgrade, so both are possible on every release (GHES_VERSION may lag an
 * upgrade, and a wrongly refused token is an outage).
 *
 * Only an app's own user tokens can be checked: `gho_` (OAuth app), `ghu_` (GitHub App, scoped
 * tokens too) and legacy hex. PATs, installation and refresh tokens are never one: GHES answers 404.
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
