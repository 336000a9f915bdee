/** A public EC key (P-256) for caller JWKS in config tests; no token is ever signed with it. */
export const TEST_PUBLIC_EC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'fJBEEwINJHCskh3t2kOT7J4IIiCfGdmeM-MhcHGTXAc',
  y: '2Dyh0Knf7-rCQzl3c95rEF3GI7WIqojJnrJbKjOnVqU',
  kid: 'k1',
} as const;
