import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/cache/entry';
import { makeNegativeEntry, makePositiveEntry, makeRevokedEntry } from '../../src/cache/policy';
import type { GhesAuthorization } from '../../src/ghes/types';
import { APP, T0, authFor, token } from './fixtures';

const POLICY = { positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 0 };

describe('KV value layout', () => {
  it('stores a positive answer as { v, kind, auth, user_id, fresh_until, stored_at } in epoch seconds', () => {
    const entry = makePositiveEntry(authFor(), APP.clientId, T0 - 250, T0, POLICY);
    const value = JSON.parse(encodeValue(entry)) as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual([
      'auth',
      'fresh_until',
      'kind',
      'stored_at',
      'user_id',
      'v',
    ]);
    expect(value).toMatchObject({
      v: 1,
      kind: 'positive',
      user_id: 42,
      fresh_until: (T0 + 60_000) / 1000,
      stored_at: (T0 - 250) / 1000,
    });
    expect(value['auth']).toEqual(authFor());
  });

  it('stores negatives and tombstones without an answer', () => {
    for (const entry of [makeNegativeEntry(T0, T0, POLICY), makeRevokedEntry(T0, POLICY)]) {
      const value = JSON.parse(encodeValue(entry)) as Record<string, unknown>;
      expect(Object.keys(value).sort()).toEqual(['fresh_until', 'kind', 'stored_at', 'v']);
      expect(value['kind']).toBe(entry.kind);
    }
  });

  it('strips token and hashed_token even when handed a full GHES authorization', () => {
    const ghes: GhesAuthorization = { ...authFor(), token: token(9), hashed_token: 'deadbeef' };
    const entry = makePositiveEntry(ghes, APP.clientId, T0, T0, POLICY);
    const text = encodeValue(entry);
    expect(text).not.toContain(token(9));
    expect(text).not.toContain('hashed_token');
    expect(entry.result.authorization).not.toHaveProperty('token');
  });

  it('round-trips through decodeValue', () => {
    for (const entry of [
      makePositiveEntry(
        authFor({ expiresAt: '2026-02-01T00:00:00Z' }),
        APP.clientId,
        T0,
        T0,
        POLICY,
      ),
      makePositiveEntry(authFor({ userId: null }), APP.clientId, T0, T0, POLICY),
      makeNegativeEntry(T0, T0, POLICY),
      makeRevokedEntry(T0, POLICY),
    ]) {
      const decoded = decodeValue(encodeValue(entry));
      expect(decoded.ok).toBe(true);
      expect(decoded.ok && decoded.value.kind).toBe(entry.kind);
    }
  });
});

describe('decodeValue (values read back from KV are untrusted)', () => {
  const good = JSON.parse(
    encodeValue(makePositiveEntry(authFor(), APP.clientId, T0, T0, POLICY)),
  ) as Record<string, unknown>;
  const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });

  it.each([
    ['not JSON', '{"v":1,'],
    ['an array', '[]'],
    ['another version', bad({ v: 2 })],
    ['an unknown kind', bad({ kind: 'maybe' })],
    ['a missing timestamp', bad({ fresh_until: undefined })],
    ['a millisecond timestamp', bad({ fresh_until: T0 })],
    ['a token field', bad({ auth: { ...(good['auth'] as object), token: 'gho_x' } })],
    ['a hashed_token field', bad({ auth: { ...(good['auth'] as object), hashed_token: 'x' } })],
    ['a user_id that does not match', bad({ user_id: 7 })],
    ['a broken auth', bad({ auth: { id: 'one' } })],
  ])('rejects %s', (_name, text) => {
    expect(decodeValue(text).ok).toBe(false);
  });

  // Each field of a stored authorization on its own: one wrong field is enough to refuse the value.
  const goodAuth = good['auth'] as Record<string, unknown>;
  it.each<[string, unknown]>([
    ['id', 'one'],
    ['url', 42],
    ['scopes', 'repo'],
    ['scopes', [1]],
    ['app', { client_id: 7 }],
    ['app', null],
    ['created_at', 0],
    ['updated_at', null],
    ['token_last_eight', 12345678],
    ['note', {}],
    ['note_url', 1],
    ['fingerprint', false],
    ['user', { id: '1', login: 'octocat' }],
    ['user', { id: 1 }],
    ['installation', 'x'],
    ['expires_at', 1],
  ])('rejects auth.%s = %j, naming the field', (field, value) => {
    const r = decodeValue(bad({ auth: { ...goodAuth, [field]: value } }));
    expect(r).toMatchObject({ ok: false });
    expect(r.ok ? '' : r.error).toContain(
      field === 'created_at' || field === 'updated_at' ? 'timestamps' : field,
    );
  });

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const r = decodeValue(text);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
    );
  });
});
