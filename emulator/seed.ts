/**
 * The demo data set: an OAuth app and a GitHub App, two users and an organisation, the GitHub
 * App installed on octocat (all repositories) and on octo-org (one selected repository), and a
 * user token per user × app. Client ids are fixed so configuration can name them; client secrets
 * and tokens are random per emulator instance (never committed), drawn once so that a reset
 * restores the very same values.
 */
import type { EmulatorState } from './state';
import { newClientSecret, newUserToken } from './tokens';
import type { UserBook } from './users';
import type { GhesVersion } from './versions';

export const DEMO_OAUTH_APP = 'demo-oauth';
export const DEMO_GITHUB_APP = 'demo-github-app';
export const DEMO_OAUTH_CLIENT_ID = '5f2d4b8a9c1e3f607a8b';
export const DEMO_GITHUB_APP_CLIENT_ID = 'Iv1.9d2c5e8f1a3b4c6d';

export interface DemoSeed {
  readonly apps: { readonly oauth: string; readonly githubApp: string };
  /**
   * Passwords for the Authorizations API (secrets: shown by GET /_emulator/users, never
   * logged): octocat without two-factor authentication, monalisa with an authenticator app.
   */
  readonly passwords: { readonly octocat: string; readonly monalisa: string };
  /** Tokens as the seed created them; reset/delete in tests make them stale, `reset()` restores them. */
  readonly tokens: {
    readonly octocatOauth: string;
    readonly monalisaOauth: string;
    readonly octocatGithubApp: string;
    readonly monalisaGithubApp: string;
  };
}

interface SeedMaterial {
  readonly oauthSecret: string;
  readonly githubAppSecret: string;
  readonly githubAppWebhookSecret: string;
  readonly seed: DemoSeed;
}

/** Tokens in the format `version` issues (40 hex before 3.2). */
export function drawSeedMaterial(version: GhesVersion): SeedMaterial {
  return {
    oauthSecret: newClientSecret(),
    githubAppSecret: newClientSecret(),
    githubAppWebhookSecret: newClientSecret(),
    seed: {
      apps: { oauth: DEMO_OAUTH_APP, githubApp: DEMO_GITHUB_APP },
      passwords: { octocat: newClientSecret(), monalisa: newClientSecret() },
      tokens: {
        octocatOauth: newUserToken('oauth_app', version),
        monalisaOauth: newUserToken('oauth_app', version),
        octocatGithubApp: newUserToken('github_app', version),
        monalisaGithubApp: newUserToken('github_app', version),
      },
    },
  };
}

export function applyDemoSeed(
  state: EmulatorState,
  users: UserBook,
  material: SeedMaterial,
  now: number,
): void {
  state.addAccount('octocat', 'User', 1);
  state.addAccount('monalisa', 'User', 2);
  users.set(1, material.seed.passwords.octocat, null);
  users.set(2, material.seed.passwords.monalisa, 'app');
  state.addAccount('octo-org', 'Organization', 3);
  state.addMember('octo-org', 'octocat');
  state.addRepository('octocat', 'hello-world', 1296269);
  state.addRepository('octocat', 'spoon-knife', 1300192);
  state.addRepository('octo-org', 'widgets', 4200001);
  state.addRepository('octo-org', 'gadgets', 4200002);

  state.addApp({
    name: DEMO_OAUTH_APP,
    kind: 'oauth_app',
    clientId: DEMO_OAUTH_CLIENT_ID,
    clientSecret: material.oauthSecret,
    url: 'https://example.com/demo-oauth',
  });
  state.addApp({
    name: DEMO_GITHUB_APP,
    kind: 'github_app',
    clientId: DEMO_GITHUB_APP_CLIENT_ID,
    clientSecret: material.githubAppSecret,
    webhookSecret: material.githubAppWebhookSecret,
    url: 'https://example.com/demo-github-app',
  });
  state.installApp({
    app: DEMO_GITHUB_APP,
    account: 'octocat',
    permissions: { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' },
  });
  state.installApp({
    app: DEMO_GITHUB_APP,
    account: 'octo-org',
    permissions: { metadata: 'read', contents: 'read', issues: 'write', members: 'read' },
    repositories: ['widgets'],
  });

  const t = material.seed.tokens;
  state.createToken(
    { app: DEMO_OAUTH_APP, login: 'octocat', scopes: ['repo', 'read:org'], token: t.octocatOauth },
    now,
  );
  state.createToken(
    { app: DEMO_OAUTH_APP, login: 'monalisa', scopes: ['read:user'], token: t.monalisaOauth },
    now,
  );
  state.createToken({ app: DEMO_GITHUB_APP, login: 'octocat', token: t.octocatGithubApp }, now);
  state.createToken({ app: DEMO_GITHUB_APP, login: 'monalisa', token: t.monalisaGithubApp }, now);
}
