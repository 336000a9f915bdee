import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller';
import { authorize, isAllowed, resolveApp } from '../../src/auth/policy';
import type { CallerPolicyEntry } from '../../src/config/types';
import { problemShape } from '../../src/lib/errors';
import { thrown } from '../helpers/errors';

function caller(sub: string, policy: CallerPolicyEntry): Caller {
  return {
    source: 'jwt',
    sub,
    policy,
    claims: { iss: 'https://callers.test', aud: 'ghes-token-gateway', exp: 2_000_000_000 },
  };
}

const reader = caller('svc-reader', {
  apps: ['octo-oauth', 'octo-app'],
  operations: ['check', 'introspect'],
});
const gateway = caller('svc-gateway', {
  apps: ['octo-oauth'],
  operations: ['introspect', 'forward_auth'],
  default_app: 'octo-oauth',
});
const admin = caller('svc-admin', { apps: ['*'], operations: ['check', 'reset', 'delete'] });

describe('isAllowed', () => {
  it('needs both the operation and the app', () => {
    expect(isAllowed(reader.policy, 'octo-oauth', 'check')).toBe(true);
    expect(isAllowed(reader.policy, 'octo-app', 'introspect')).toBe(true);
    expect(isAllowed(reader.policy, 'octo-oauth', 'reset')).toBe(false);
    expect(isAllowed(reader.policy, 'other', 'check')).toBe(false);
  });

  it('treats "*" as every app but not every operation', () => {
    expect(isAllowed(admin.policy, 'anything', 'reset')).toBe(true);
    expect(isAllowed(admin.policy, 'anything', 'introspect')).toBe(false);
  });
});

describe('authorize', () => {
  it('returns for an allowed app and operation', () => {
    expect(() => authorize(reader, 'octo-app', 'check')).not.toThrow();
  });

  it('throws 403 forbidden naming caller, operation and app for a disallowed operation', () => {
    const e = thrown(() => authorize(reader, 'octo-oauth', 'reset'));
    expect(e.code).toBe('forbidden');
    expect(problemShape(e.code).status).toBe(403);
    expect(e.detail).toBe('caller "svc-reader" may not reset on app "octo-oauth"');
    expect(e.reason).toBe('operation not in the caller policy');
  });

  it('throws 403 for an app outside the list, whether or not it exists', () => {
    const existing = thrown(() => authorize(gateway, 'octo-app', 'introspect'));
    const missing = thrown(() => authorize(gateway, 'no-such-app', 'introspect'));
    expect(existing.code).toBe('forbidden');
    expect(missing.code).toBe('forbidden');
    expect(existing.reason).toBe('app not in the caller policy');
    expect(missing.detail).toBe('caller "svc-gateway" may not introspect on app "no-such-app"');
  });

  it('cuts a long caller-supplied app name short in the detail', () => {
    const e = thrown(() => authorize(reader, 'x'.repeat(500), 'check'));
    expect(e.detail?.length).toBeLessThan(200);
  });
});

describe('resolveApp', () => {
  it('uses the requested app when given', () => {
    expect(resolveApp(reader, 'octo-app')).toBe('octo-app');
  });

  it('falls back to default_app when none (or an empty name) is given', () => {
    expect(resolveApp(gateway, undefined)).toBe('octo-oauth');
    expect(resolveApp(gateway, '')).toBe('octo-oauth');
  });

  it('prefers the requested app over default_app; authorize then judges it', () => {
    expect(resolveApp(gateway, 'octo-app')).toBe('octo-app');
    const e = thrown(() => authorize(gateway, resolveApp(gateway, 'octo-app'), 'introspect'));
    expect(e.code).toBe('forbidden');
  });

  it('throws 400 invalid-request when no app is named and there is no default', () => {
    const e = thrown(() => resolveApp(reader, undefined));
    expect(e.code).toBe('invalid-request');
    expect(problemShape(e.code).status).toBe(400);
    expect(e.detail).toBe('no app named, and caller "svc-reader" has no default app');
  });

  it('the default app is authorized for the operation like a named one', () => {
    const e = thrown(() => authorize(gateway, resolveApp(gateway, undefined), 'check'));
    expect(e.code).toBe('forbidden');
    expect(e.detail).toBe('caller "svc-gateway" may not check on app "octo-oauth"');
  });

  it('returns any name for a "*" caller; the route answers 404 unknown-app if it does not exist', () => {
    expect(resolveApp(admin, 'no-such-app')).toBe('no-such-app');
    expect(() => authorize(admin, 'no-such-app', 'check')).not.toThrow();
  });
});
