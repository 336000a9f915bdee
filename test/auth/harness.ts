/**
 * A tiny Hono app around `callerAuth` for the auth tests: errors become problems the way the
 * gateway's onError does, the handler records each call, and the logger keeps every record.
 */
import { Hono } from 'hono';
import type { JWTVerifyGetKey } from 'jose';
import type { Caller, CallerAuthVariables } from '../../src/auth/caller';
import { callerAuth, type CallerAuthOptions } from '../../src/auth/caller-auth';
import { createCallerKeySet, type CallerKeySetOptions } from '../../src/auth/keys';
import type { CallerPolicyEntry } from '../../src/config/types';
import { isGatewayError, problemResponse, type Problem } from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import {
  TEST_CALLER_AUDIENCE,
  TEST_CALLER_ISSUER,
  TEST_CALLER_SUB,
  mintCallerJwt,
  type TestCallerKeys,
} from '../helpers/caller';

/** A fixed instant (ms) for tests that freeze time. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Where the remote key-set tests serve their JWKS. */
export const JWKS_URL = 'https://idp.test/.well-known/jwks.json';

/** Caller JWTs signed with `keys`, issued at T0. */
export const minterFor =
  (keys: TestCallerKeys) =>
  (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    mintCallerJwt(keys, claims, header, { now: T0 });

export const TEST_POLICY: Record<string, CallerPolicyEntry> = {
  [TEST_CALLER_SUB]: {
    apps: ['octo-oauth'],
    operations: ['check', 'introspect'],
    default_app: 'octo-oauth',
  },
};

export interface Clock {
  ms: number;
}

export interface Harness {
  app: Hono<{ Variables: CallerAuthVariables }>;
  /** Callers the handler saw, one per request that reached it. */
  seen: Caller[];
  logs: LogRecord[];
  clock: Clock;
  /** How often the key set was asked for a key (i.e. full verifications). */
  keyLookups: { count: number };
  request(headers?: Record<string, string>): Promise<Response>;
  bearer(token: string): Promise<Response>;
  /** Any request init, e.g. `{ cf: { tlsClientAuth } }` (workerd keeps `cf` on a new Request). */
  send(init: RequestInit): Promise<Response>;
  /** The middleware's synchronous lookup (the hot paths' lean pipeline). */
  rememberedCaller(headers: Record<string, string>): Caller | undefined;
}

export interface HarnessOptions extends Partial<Omit<CallerAuthOptions, 'keySet' | 'log' | 'now'>> {
  keys?: TestCallerKeys | TestCallerKeys[];
  keySet?: JWTVerifyGetKey;
  keySetOptions?: CallerKeySetOptions;
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const clock: Clock = { ms: T0 };
  const logs: LogRecord[] = [];
  const seen: Caller[] = [];
  const keyLookups = { count: 0 };
  const { keys, keySet: givenKeySet, keySetOptions, ...rest } = options;
  let keySet = givenKeySet;
  if (keySet === undefined) {
    const list = keys === undefined ? [] : Array.isArray(keys) ? keys : [keys];
    keySet = createCallerKeySet(
      {
        jwks: { keys: list.map((k) => ({ ...k.publicJwk })) },
        jwksUrl: undefined,
        algorithms: ['ES256'],
      },
      keySetOptions,
    );
  }
  const inner = keySet;
  const counted: JWTVerifyGetKey = (header, token) => {
    keyLookups.count += 1;
    return inner(header, token);
  };

  const app = new Hono<{ Variables: CallerAuthVariables }>();
  const middleware = callerAuth({
    issuer: TEST_CALLER_ISSUER,
    audience: TEST_CALLER_AUDIENCE,
    algorithms: ['ES256'],
    clockToleranceS: 30,
    maxTokenAgeS: 0,
    policy: TEST_POLICY,
    ...rest,
    keySet: counted,
    log: (r) => logs.push(r),
    now: () => clock.ms,
  });
  app.use('*', middleware);
  app.get('/protected', (c) => {
    seen.push(c.get('caller'));
    return c.json({ sub: c.get('caller').sub });
  });
  app.onError((err) => {
    if (isGatewayError(err)) return problemResponse(err);
    throw err;
  });

  const request = (headers: Record<string, string> = {}) =>
    Promise.resolve(app.request('https://gateway.test/protected', { headers }));
  const header = options.header ?? 'authorization';
  return {
    app,
    seen,
    logs,
    clock,
    keyLookups,
    request,
    bearer: (token) => request({ [header]: `Bearer ${token}` }),
    send: (init) => Promise.resolve(app.fetch(new Request('https://gateway.test/protected', init))),
    rememberedCaller: (headers) => middleware.rememberedCaller(new Headers(headers)),
  };
}

export async function problemOf(res: Response): Promise<Problem> {
  return (await res.json()) as Problem;
}

export function challenge(description: string): string {
  return `Bearer realm="ghes-token-gateway", error="invalid_token", error_description="${description}"`;
}
