/** A public EC key (P-256) for caller JWKS in config tests; no token is ever signed with it. */
export const TEST_PUBLIC_EC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'fJBEEwINJHCskh3t2kOT7J4IIiCfGdmeM-MhcHGTXAc',
  y: '2Dyh0Knf7-rCQzl3c95rEF3GI7WIqojJnrJbKjOnVqU',
  kid: 'k1',
} as const;

/** APPS for the config tests: one OAuth app, one GitHub App, secrets under OAUTH_SECRET / APP_SECRET. */
export const FIXTURE_APPS = [
  {
    name: 'demo-oauth',
    client_id: '5f2d4b8a9c1e3f607a8b',
    kind: 'oauth_app',
    client_secret_binding: 'OAUTH_SECRET',
  },
  {
    name: 'demo-github-app',
    client_id: 'Iv1.9d2c5e8f1a3b4c6d',
    kind: 'github_app',
    client_secret_binding: 'APP_SECRET',
  },
] as const;
