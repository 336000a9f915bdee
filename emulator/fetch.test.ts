/** emulator.fetch as an injected outbound fetch: inputs, AbortSignal and redirect handling. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, type GhesEmulator } from './index';
import { basic, credentials, FIXED_NOW } from './test-client';

let ghes: GhesEmulator;
let clientId: string;
let authorization: string;
let token: string;

beforeEach(() => {
  ghes = createGhesEmulator({ now: () => FIXED_NOW });
  const c = credentials(ghes, 'demo-oauth');
  clientId = c.clientId;
  authorization = basic(c.clientId, c.secret);
  token = ghes.seed?.tokens.octocatOauth ?? '';
});

describe('inputs', () => {
  it('accepts a Request object and routes by path whatever the host', async () => {
    const request = new Request(
      `http://any-host.internal:9999/api/v3/applications/${clientId}/token`,
      {
        method: 'POST',
        headers: { authorization },
        body: JSON.stringify({ access_token: token }),
      },
    );
    const res = await ghes.fetch(request);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toMatch(
      /^http:\/\/any-host\.internal:9999\/api\/v3\//,
    );
  });

  it('accepts a URL object with init', async () => {
    const res = await ghes.fetch(
      new URL(`https://ghes.example.test/api/v3/applications/${clientId}/token`),
      {
        method: 'POST',
        headers: { authorization },
        body: JSON.stringify({ access_token: token }),
      },
    );
    expect(res.status).toBe(200);
  });
});

describe('AbortSignal', () => {
  it('rejects at once with the reason when already aborted, without reaching the emulator', async () => {
    const reason = new Error('already gone');
    const res = ghes.fetch(`https://ghes.example.test/api/v3/applications/${clientId}/token`, {
      method: 'POST',
      headers: { authorization },
      body: JSON.stringify({ access_token: token }),
      signal: AbortSignal.abort(reason),
    });
    await expect(res).rejects.toBe(reason);
    expect(ghes.calls().check).toBe(0);
  });

  it("honours a Request's own signal", async () => {
    const controller = new AbortController();
    ghes.addFault({ hang: true });
    const request = new Request(`https://ghes.example.test/api/v3/applications/${clientId}/token`, {
      method: 'POST',
      headers: { authorization },
      body: JSON.stringify({ access_token: token }),
      signal: controller.signal,
    });
    const pending = ghes.fetch(request);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('redirects', () => {
  it('301 on POST turns into GET without the body; 308 keeps method and body', async () => {
    const target = `https://ghes.example.test/api/v3/applications/${clientId}/token`;
    ghes.addFault({ status: 301, location: target, times: 1 });
    // The follow-up GET is not a GHES route: 404, and no check was performed on it.
    const moved = await ghes.fetch(target, {
      method: 'POST',
      headers: { authorization },
      body: JSON.stringify({ access_token: token }),
    });
    expect(moved.status).toBe(404);
    expect(ghes.calls().check).toBe(1);

    ghes.addFault({ status: 308, location: target, times: 1 });
    const kept = await ghes.fetch(target, {
      method: 'POST',
      headers: { authorization },
      body: JSON.stringify({ access_token: token }),
    });
    expect(kept.status).toBe(200);
    expect(ghes.calls().check).toBe(3);
  });

  it('gives up after 20 redirects', async () => {
    const target = `https://ghes.example.test/api/v3/applications/${clientId}/token`;
    ghes.addFault({ status: 307, location: target });
    await expect(
      ghes.fetch(target, {
        method: 'POST',
        headers: { authorization },
        body: JSON.stringify({ access_token: token }),
      }),
    ).rejects.toThrow('too many redirects');
    expect(ghes.calls().check).toBe(21);
  });
});
