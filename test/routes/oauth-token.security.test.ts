/**
 * POST /v1/apps/{app}/oauth/token keeps its secrets: no code, code_verifier, refresh token,
 * access token or client secret in any log line, KV key or value, URL, error body or header —
 * a minted token and refresh token appear only in the one answer that hands them over. It is a
 * mutation: the mutation rate limit applies before GHES is called.
 */
import { describe, expect, it } from 'vitest';
import { StrictKv } from '../helpers/strict-kv';
import { createTestGateway, secretsOf, type TestGateway } from '../helpers/gateway';
import { env } from 'cloudflare:test';
import {
  GH_APP,
  OAUTH,
  codeGrant,
  issueCode,
  refreshGrant,
  tokenPath,
  webCalls,
  type TokenAnswer,
} from './oauth-token.harness';

const VERIFIER = 'V3ry-s3cret.verifier_~' + 'x'.repeat(30);

interface Seen {
  status: number;
  headers: string;
  body: string;
}

async function seen(res: Response): Promise<Seen> {
  return { status: res.status, headers: JSON.stringify([...res.headers]), body: await res.text() };
}

/** Everything the gateway wrote outside answers: logs, KV, the URLs it called. */
async function outside(gw: TestGateway, kv: StrictKv): Promise<string> {
  await gw.settle();
  return [
    JSON.stringify(gw.logs),
    JSON.stringify(kv.puts),
    JSON.stringify(await kv.dump()),
    JSON.stringify(gw.outbound),
  ].join('\n');
}

describe('secrets stay where they belong', () => {
  it('a full flow — exchange, refresh, failures — leaks nothing outside the answers that carry it', async () => {
    const kv = new StrictKv(env.TOKEN_CACHE);
    const gw = await createTestGateway({ kv: kv.kv });
    const secrets = secretsOf(gw);
    const answers: Seen[] = [];

    const oauthCode = await issueCode(gw, OAUTH);
    const oauth = await seen(
      await gw.post(tokenPath(OAUTH), codeGrant(oauthCode, { code_verifier: VERIFIER })),
    );
    answers.push(oauth);
    const ghCode = await issueCode(gw, GH_APP);
    const gh = await seen(await gw.post(tokenPath(GH_APP), codeGrant(ghCode)));
    const first = JSON.parse(gh.body) as TokenAnswer;
    const refreshed = await seen(
      await gw.post(tokenPath(GH_APP), refreshGrant(first.refresh_token ?? '')),
    );
    const second = JSON.parse(refreshed.body) as TokenAnswer;
    // Failures: a used code, a used refresh token, an outcome-unknown.
    const failures = [
      await seen(
        await gw.post(tokenPath(OAUTH), codeGrant(oauthCode, { code_verifier: VERIFIER })),
      ),
      await seen(await gw.post(tokenPath(GH_APP), refreshGrant(first.refresh_token ?? ''))),
    ];
    const lostCode = await issueCode(gw, OAUTH);
    gw.emulator.addFault({ operation: 'oauth_access_token', commit_then_fail: true, status: 502 });
    failures.push(await seen(await gw.post(tokenPath(OAUTH), codeGrant(lostCode))));
    expect(failures.map((f) => f.status)).toEqual([400, 400, 502]);

    const minted = [
      JSON.parse(oauth.body).access_token as string,
      first.access_token,
      first.refresh_token ?? '',
      second.access_token,
      second.refresh_token ?? '',
    ];
    const forbidden = [...secrets, oauthCode, ghCode, lostCode, VERIFIER, ...minted];
    const elsewhere = await outside(gw, kv);
    // The refresh moved a grant epoch: KV was written, and is scanned.
    expect(kv.puts.some((p) => p.key.includes('epoch'))).toBe(true);
    for (const s of forbidden) expect(elsewhere, 'a secret in logs, KV or a URL').not.toContain(s);
    for (const f of failures) for (const s of forbidden) expect(JSON.stringify(f)).not.toContain(s);
    // Each minted credential is in its own answer's body, never in a header.
    expect(oauth.body).toContain(minted[0]);
    expect(gh.body).toContain(first.refresh_token);
    for (const a of [oauth, gh, refreshed])
      for (const s of forbidden) expect(a.headers).not.toContain(s);
    // The refresh answer names only the new pair.
    expect(refreshed.body).not.toContain(first.refresh_token);
    expect(refreshed.body).not.toContain(first.access_token);
  });

  it('codes and credentials go to GHES in the body, never in the URL', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    await gw.post(tokenPath(OAUTH), codeGrant(code));
    const call = gw.outbound.find((o) => o.url.includes('/login/oauth/access_token'));
    expect(call?.url).toBe('https://ghes.test/login/oauth/access_token');
  });

  it('answers are never stored: Cache-Control no-store on success and on problems', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    const okRes = await gw.post(tokenPath(OAUTH), codeGrant(code));
    const bad = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(okRes.headers.get('cache-control')).toBe('no-store');
    expect(bad.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the mutation rate limit', () => {
  it('a caller over it gets 429 before GHES is called', async () => {
    const keys: string[] = [];
    const deny = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return { success: false };
      },
    };
    const gw = await createTestGateway({ vars: { MUTATION_RATE_LIMITER: deny } });
    const code = await issueCode(gw, OAUTH);
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(keys).toEqual(['mutation:svc-demo']);
    expect(webCalls(gw)).toBe(0);
    const refresh = await gw.post(tokenPath(GH_APP), refreshGrant('ghr_x'));
    expect(refresh.status).toBe(429);
    expect(webCalls(gw)).toBe(0);
  });
});
