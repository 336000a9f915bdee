/**
 * The `npm start` banner (scripts/lib/start-banner.ts): calls print their status line so a 204
 * is visible, the caller JWT's expiry and how to get a fresh one are stated, more demo tokens can
 * be minted from the emulator's admin API, and the code-exchange capture stays parseable JSON.
 */
import { describe, expect, it } from 'vitest';
import { startBanner, type StartBannerInput } from '../../scripts/lib/start-banner';

const input: StartBannerInput = {
  gatewayUrl: 'http://127.0.0.1:8787',
  emulatorUrl: 'http://127.0.0.1:8788',
  ghesVersion: '3.22',
  caller: {
    token: 'eyJcaller.jwt.sig',
    sub: 'demo-caller',
    expiresAt: new Date(Date.UTC(2026, 10, 21, 13, 0, 0)),
    ttlS: 3600,
  },
  tokens: { oauth: 'gho_oauth', app: 'ghu_app', webhook: 'ghu_webhook', spare: 'gho_spare' },
  code: 'code123',
  redirectUri: 'http://127.0.0.1:9999/callback',
};
const banner = startBanner(input);
const lines = banner.split('\n');
const curls = lines.filter((l) => /^(?:ANSWER=\$\()?curl /.test(l));

describe('npm start banner', () => {
  it('shows the status line of every gateway call (a 204 has no body to show)', () => {
    // The OpenAPI document is the one download: its body is what is wanted.
    const gatewayCalls = curls.filter(
      (l) =>
        l.includes(input.gatewayUrl) && !l.startsWith('ANSWER') && !l.includes('/openapi.json'),
    );
    expect(gatewayCalls.length).toBeGreaterThanOrEqual(12);
    for (const line of gatewayCalls) expect(line, line).toMatch(/^curl -si /);
    const del = lines[lines.findIndex((l) => l.startsWith('# delete a token')) + 1];
    expect(del).toMatch(/^curl -si .*\/v1\/apps\/demo-oauth\/token\/delete /);
  });

  it('captures the code exchange without headers, so the refresh line can parse it', () => {
    const capture = lines.find((l) => l.startsWith('ANSWER=$('));
    expect(capture).toMatch(/^ANSWER=\$\(curl -s -H /);
    expect(capture).not.toMatch(/curl -si/);
  });

  it('states when the caller JWT expires and how to get a fresh one', () => {
    expect(banner).toContain('expires at 13:00:00 UTC (2026-11-21T13:00:00.000Z)');
    expect(banner).toContain('(dev key, 1 h)');
    expect(banner).toContain('TOKEN=$(npm run -s caller-token)');
    expect(banner).not.toMatch(/npm run caller-token/);
  });

  it('says how to mint more demo tokens through the emulator admin API', () => {
    expect(banner).toContain(
      `curl -s -H 'content-type: application/json' -X POST ${input.emulatorUrl}/_emulator/tokens -d '{"app":"demo-oauth","login":"octocat","scopes":["repo"]}'`,
    );
  });

  it('prints the caller JWT and demo tokens; user passwords only as a lookup run at paste time', () => {
    expect(banner).toContain(`Authorization: Bearer ${input.caller.token}`);
    expect(banner).toContain(input.tokens.oauth);
    for (const line of lines.filter((l) => l.includes('password') && !l.startsWith('#')))
      expect(line).toContain(`$(curl -s ${input.emulatorUrl}/_emulator/users | node -pe`);
  });
});
