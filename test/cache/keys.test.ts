import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  KV_MAX_KEY_BYTES,
  MAX_REMEMBERED_TOKEN_LENGTH,
  TOKEN_ID_LENGTH,
  TokenKeyer,
  base64url,
  epochKey,
  tokenIdOf,
  tokenKey,
} from '../../src/cache/keys';
import { Clock, PEPPER, token } from './fixtures';

function reference(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function referenceHmac(pepper: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(pepper),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return reference(
    new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message))),
  );
}

describe('base64url', () => {
  it('matches RFC 4648 §5 without padding for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(base64url(bytes)).toBe(reference(bytes));
      }),
    );
  });
});

describe('TokenKeyer', () => {
  const keyer = new TokenKeyer(PEPPER);

  it('is HMAC-SHA-256 over version, purpose, client_id and token with the pepper', async () => {
    const hash = await keyer.hash('Iv1.abc', token(1));
    expect(hash).toBe(await referenceHmac(PEPPER, `v1\0tok\0Iv1.abc\0${token(1)}`));
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is stable across calls and instances (the key is imported once and reused)', async () => {
    const a = await keyer.hash('Iv1.abc', token(2));
    const b = await keyer.hash('Iv1.abc', token(2));
    const c = await new TokenKeyer(PEPPER).hash('Iv1.abc', token(2));
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('separates apps, tokens and peppers', async () => {
    const base = await keyer.hash('Iv1.abc', token(3));
    expect(await keyer.hash('Iv1.abd', token(3))).not.toBe(base);
    expect(await keyer.hash('Iv1.abc', token(4))).not.toBe(base);
    expect(await new TokenKeyer(`${PEPPER}!`).hash('Iv1.abc', token(3))).not.toBe(base);
  });

  it('never puts the token in the key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 8, maxLength: 200 }), async (t) => {
        const key = tokenKey(await keyer.hash('Iv1.abc', t));
        expect(key).not.toContain(t);
        expect(new TextEncoder().encode(key).byteLength).toBeLessThanOrEqual(KV_MAX_KEY_BYTES);
      }),
      { numRuns: 50 },
    );
  });
});

describe('TokenKeyer, remembered keys', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function counted(maxEntries: number, ttlMs = 60_000) {
    const clock = new Clock();
    const sign = vi.spyOn(crypto.subtle, 'sign');
    const keyer = new TokenKeyer(PEPPER, { maxEntries, ttlMs, clock });
    return { clock, sign, keyer };
  }

  it('answers a token keyed before without crypto.subtle, with the same key', async () => {
    const { sign, keyer } = counted(10);
    const first = await keyer.hash('Iv1.abc', token(10));
    expect(sign).toHaveBeenCalledTimes(1);
    expect(await keyer.hash('Iv1.abc', token(10))).toBe(first);
    expect(sign).toHaveBeenCalledTimes(1);
    expect(first).toBe(await referenceHmac(PEPPER, `v1\0tok\0Iv1.abc\0${token(10)}`));
  });

  it('gives a remembered key synchronously (knownHash), and nothing it would have to compute', async () => {
    const { clock, sign, keyer } = counted(10, 60_000);
    expect(keyer.knownHash('Iv1.abc', token(17))).toBeUndefined();
    const key = await keyer.hash('Iv1.abc', token(17));
    expect(keyer.knownHash('Iv1.abc', token(17))).toBe(key);
    expect(keyer.knownHash('Iv1.abd', token(17))).toBeUndefined();
    clock.advanceMs(60_000);
    expect(keyer.knownHash('Iv1.abc', token(17))).toBeUndefined();
    expect(sign).toHaveBeenCalledTimes(1);
    expect(new TokenKeyer(PEPPER).knownHash('Iv1.abc', token(17))).toBeUndefined();
  });

  it('remembers per app and per token: another app or token is keyed afresh', async () => {
    const { sign, keyer } = counted(10);
    const a = await keyer.hash('Iv1.abc', token(11));
    const b = await keyer.hash('Iv1.abd', token(11));
    const c = await keyer.hash('Iv1.abc', token(12));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(sign).toHaveBeenCalledTimes(3);
  });

  it('forgets a key once its time is up, and computes it again', async () => {
    const { clock, sign, keyer } = counted(10, 60_000);
    const first = await keyer.hash('Iv1.abc', token(13));
    clock.advanceMs(59_999);
    await keyer.hash('Iv1.abc', token(13));
    expect(sign).toHaveBeenCalledTimes(1);
    clock.advanceMs(1);
    expect(await keyer.hash('Iv1.abc', token(13))).toBe(first);
    expect(sign).toHaveBeenCalledTimes(2);
  });

  it('remembers no more than maxEntries tokens, the least recently used going first', async () => {
    const { sign, keyer } = counted(2);
    await keyer.hash('Iv1.abc', token(14));
    await keyer.hash('Iv1.abc', token(15));
    await keyer.hash('Iv1.abc', token(14)); // now the most recent
    await keyer.hash('Iv1.abc', token(16)); // evicts token(15)
    expect(sign).toHaveBeenCalledTimes(3);
    await keyer.hash('Iv1.abc', token(14));
    expect(sign).toHaveBeenCalledTimes(3);
    await keyer.hash('Iv1.abc', token(15));
    expect(sign).toHaveBeenCalledTimes(4);
  });

  it('never remembers a token longer than any GitHub token, so its memory stays bounded', async () => {
    const { sign, keyer } = counted(10);
    const long = 'x'.repeat(MAX_REMEMBERED_TOKEN_LENGTH + 1);
    const first = await keyer.hash('Iv1.abc', long);
    expect(await keyer.hash('Iv1.abc', long)).toBe(first);
    expect(sign).toHaveBeenCalledTimes(2);
    const longest = 'y'.repeat(MAX_REMEMBERED_TOKEN_LENGTH);
    await keyer.hash('Iv1.abc', longest);
    await keyer.hash('Iv1.abc', longest);
    expect(sign).toHaveBeenCalledTimes(3);
  });

  it('remembers nothing with maxEntries 0 or without options', async () => {
    const { sign, keyer } = counted(0);
    await keyer.hash('Iv1.abc', token(17));
    await keyer.hash('Iv1.abc', token(17));
    const plain = new TokenKeyer(PEPPER);
    await plain.hash('Iv1.abc', token(17));
    await plain.hash('Iv1.abc', token(17));
    expect(sign).toHaveBeenCalledTimes(4);
  });

  it('refuses to remember keys for no time', () => {
    expect(() => new TokenKeyer(PEPPER, { maxEntries: 1, ttlMs: 0, clock: new Clock() })).toThrow(
      RangeError,
    );
  });

  it('agrees with a keyer that remembers nothing, for any sequence of tokens and apps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('Iv1.abc', 'Iv1.abd'), fc.string({ maxLength: 60 })), {
          maxLength: 12,
        }),
        fc.integer({ min: 0, max: 4 }),
        async (calls, maxEntries) => {
          const remembering = new TokenKeyer(PEPPER, { maxEntries, ttlMs: 1, clock: new Clock() });
          const plain = new TokenKeyer(PEPPER);
          for (const [clientId, t] of [...calls, ...calls])
            expect(await remembering.hash(clientId, t)).toBe(await plain.hash(clientId, t));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('key layout', () => {
  it('names token entries v1:tok:<hash> and the token id is its 12-character prefix', () => {
    const hash = 'A'.repeat(43);
    expect(tokenKey(hash)).toBe(`v1:tok:${hash}`);
    expect(tokenKey(hash)).toHaveLength(50);
    expect(tokenIdOf('abcdefghijklmnopqrstuvwxyz')).toBe('abcdefghijkl');
    expect(TOKEN_ID_LENGTH).toBe(12);
  });

  it('names grant epochs v1:epoch:<client_id>:<user_id>', () => {
    expect(epochKey('Iv1.abc', 42)).toBe('v1:epoch:Iv1.abc:42');
  });

  it('refuses an epoch key KV would refuse', () => {
    expect(() => epochKey('x'.repeat(100), Number.MAX_SAFE_INTEGER)).not.toThrow();
    expect(() => epochKey('x'.repeat(600), 1)).toThrow(RangeError);
    // At the limit exactly: "v1:epoch:" + client_id + ":1" of 512 bytes is KV's largest key.
    expect(epochKey('x'.repeat(501), 1)).toHaveLength(KV_MAX_KEY_BYTES);
    expect(() => epochKey('x'.repeat(502), 1)).toThrow(RangeError);
  });
});
