import { env } from 'cloudflare:test';
import { expect, inject, it } from 'vitest';

it('runs inside workerd with the TOKEN_CACHE binding', async () => {
  await env.TOKEN_CACHE.put('smoke', 'ok', { expirationTtl: 60 });
  expect(await env.TOKEN_CACHE.get('smoke')).toBe('ok');
});

it('refuses unmocked outbound requests', async () => {
  await expect(fetch('https://example.invalid/')).rejects.toThrow(/unexpected outbound request/);
});

it('receives the GHES contract from global setup', () => {
  const { npm, shared } = inject('ghesContract');
  expect(Object.keys(npm.versions)).toContain('3.19');
  expect(npm.from['3.19']).toMatch(/^npm:@octokit\/openapi@23\./);
  if (shared !== null) expect(Object.keys(shared.versions)).toContain('3.22');
});
