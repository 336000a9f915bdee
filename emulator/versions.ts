/**
 * Which GHES version serves what. The facts come from GitHub's own OpenAPI descriptions of each
 * GHES release (../shared/ghes-openapi/README.md); contract.test.ts checks every gate below
 * against those documents, so a wrong row here fails a test instead of silently mirroring a
 * gateway assumption.
 */

export interface GhesVersion {
  readonly major: number;
  readonly minor: number;
  /** Canonical "X.Y" spelling, as in `versions["3.22"]` and `enterprise-server@3.22`. */
  readonly name: string;
}

/** The oldest release GitHub published an OpenAPI description for. */
export const OLDEST_VERSION = '2.18';
export const DEFAULT_VERSION = '3.22';

/** Every release the shared contract describes, oldest first. */
export const KNOWN_VERSIONS: readonly string[] = [
  '2.18',
  '2.19',
  '2.20',
  '2.21',
  '2.22',
  ...Array.from({ length: 23 }, (_, i) => `3.${i}`),
];

const VERSION_PATTERN = /^(\d{1,2})\.(\d{1,2})$/;

export function parseVersion(input: string): GhesVersion | undefined {
  const m = VERSION_PATTERN.exec(input);
  if (!m?.[1] || !m[2]) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (compare({ major, minor }, { major: 2, minor: 18 }) < 0) return undefined;
  return { major, minor, name: `${major}.${minor}` };
}

function compare(a: { major: number; minor: number }, b: { major: number; minor: number }): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function atLeast(v: GhesVersion, target: string): boolean {
  const t = parseVersion(target);
  if (!t) throw new Error(`bad version literal ${target}`);
  return compare(v, t) >= 0;
}

/** What one GHES release serves and how its `authorization` schema looks. */
export interface VersionFeatures {
  /** POST/PATCH/DELETE /applications/{client_id}/token and DELETE …/grant: 2.20 and later. */
  readonly bodyStyle: boolean;
  /** POST /applications/{client_id}/token/scoped: 3.0 and later. */
  readonly scoped: boolean;
  /** GET/POST/DELETE …/tokens/{access_token} and DELETE …/grants/{access_token}: removed in 3.4. */
  readonly legacy: boolean;
  /**
   * The answer is typed by `authorization` with nullable `note`, `note_url`, `fingerprint`: 2.20
   * and later. 2.18 – 2.19 describe it as `authorization-with-user`, plain strings and nothing
   * required, so null-valued members are left out there.
   */
  readonly nullableAuthorizationFields: boolean;
  /** `expires_at` on `authorization`: required from 2.22 (typed as nullable date-time from 3.2). */
  readonly expiresAt: boolean;
  /** `user_view_type` on `simple-user`: described from 3.12. */
  readonly userViewType: boolean;
  /** REST API calendar versioning (`X-GitHub-Api-Version`): 3.9 and later. */
  readonly apiVersions: boolean;
  /**
   * GitHub-App user tokens that expire (8 h) with a refresh token (6 months): 2.22 and later
   * (github/docs content/developers/apps/refreshing-user-to-server-access-tokens.md,
   * `enterprise-server: '>=2.22'`).
   */
  readonly expiringUserTokens: boolean;
  /**
   * PKCE on the web flow: no release. GitHub added it to github.com on 2025-07-14 (changelog
   * "PKCE support for OAuth and GitHub App authentication"); github/docs gates its text behind
   * data/features/pkce_support.yml, which lists fpt and ghec only, and GHES pages say the
   * `code_challenge` parameters "are not supported at this time". Config `pkce` overrides.
   */
  readonly pkce: boolean;
}

export function featuresOf(v: GhesVersion): VersionFeatures {
  return {
    bodyStyle: atLeast(v, '2.20'),
    scoped: atLeast(v, '3.0'),
    legacy: !atLeast(v, '3.4'),
    nullableAuthorizationFields: atLeast(v, '2.20'),
    expiresAt: atLeast(v, '2.22'),
    userViewType: atLeast(v, '3.12'),
    apiVersions: atLeast(v, '3.9'),
    expiringUserTokens: atLeast(v, '2.22'),
    pkce: false,
  };
}

/** The only REST API version GHES 3.9 – 3.22 accept in `X-GitHub-Api-Version`. */
export const SUPPORTED_API_VERSION = '2022-11-28';

export function docsBase(v: GhesVersion): string {
  return `https://docs.github.com/enterprise-server@${v.name}/rest`;
}
