/**
 * Schema validation (src/middleware/validation.ts) through the route table (src/routes/api.ts) on
 * a small app of its own: each failure is a 422 `validation-failed` problem naming the field
 * (`body.…`, `path.…`, `query.…`), an invalid `{app}` is 404 `unknown-app`, a misspelt field is
 * named with the closest real one, and no submitted value is echoed.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { isGatewayError, problemResponse } from '../../src/lib/errors';
import { closestKey, safeSegment } from '../../src/middleware/validation';
import { APP_NAME_PATTERN } from '../../src/config/types';
import type { AppEnv } from '../../src/context';
import { Api, JSON_TYPE, type RouteSpec } from '../../src/routes/api';

const route = {
  method: 'post',
  path: '/apps/{app}/things',
  operationId: 'things',
  tags: ['test'],
  summary: 'test',
  request: {
    params: v.object({ app: v.pipe(v.string(), v.regex(APP_NAME_PATTERN)) }),
    query: v.object({ mode: v.optional(v.picklist(['fast', 'slow'])) }),
    body: {
      type: JSON_TYPE,
      schema: v.strictObject({
        name: v.pipe(v.string(), v.regex(/^[a-z]+$/, 'must be lower-case letters')),
        count: v.pipe(v.number(), v.integer()),
        nested: v.optional(v.strictObject({ level: v.picklist(['read', 'write']) })),
      }),
    },
  },
  responses: { 200: { description: 'ok' } },
} satisfies RouteSpec;

function testApp() {
  const app = new Hono<AppEnv>();
  new Api(app).route(route, (c) => c.json({ ok: true }, 200));
  app.onError((err) => {
    if (isGatewayError(err)) return problemResponse(err);
    throw err;
  });
  return app;
}

async function send(path: string, body: unknown) {
  const res = await testApp().request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { res, text: await res.text() };
}

interface Problem {
  code: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

describe('validationHook', () => {
  it('lets a valid request through', async () => {
    const { res } = await send('/apps/demo/things?mode=fast', { name: 'abc', count: 1 });
    expect(res.status).toBe(200);
  });

  it.each([
    ['a wrong type', { name: 'abc', count: 'SECRET-VALUE-one' }, 'body.count', 'SECRET-VALUE-one'],
    ['a failed pattern', { name: 'SECRET-VALUE-two', count: 1 }, 'body.name', 'SECRET-VALUE-two'],
    [
      'a bad nested enum',
      { name: 'abc', count: 1, nested: { level: 'SECRET-VALUE-three' } },
      'body.nested.level',
      'SECRET-VALUE-three',
    ],
    ['a missing field', { name: 'abc' }, 'body.count', undefined],
  ])('%s → 422 naming %s, without the value', async (_name, body, field, value) => {
    const { res, text } = await send('/apps/demo/things', body);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = JSON.parse(text) as Problem;
    expect(problem.code).toBe('validation-failed');
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(problem.detail.startsWith(`${field}: `)).toBe(true);
    if (value !== undefined) expect(text).not.toContain(value);
  });

  it('names every failing field, in order', async () => {
    const { text } = await send('/apps/demo/things', { name: 1, count: 1.5 });
    expect((JSON.parse(text) as Problem).errors?.map((e) => e.field)).toEqual([
      'body.name',
      'body.count',
    ]);
  });

  it('a query parameter is named query.…', async () => {
    const { res, text } = await send('/apps/demo/things?mode=SECRET-VALUE-four', {
      name: 'abc',
      count: 1,
    });
    expect(res.status).toBe(422);
    expect((JSON.parse(text) as Problem).errors?.[0]?.field).toBe('query.mode');
    expect(text).not.toContain('SECRET-VALUE-four');
  });

  it.each(['Demo', 'demo_app', '-demo', 'a'.repeat(65)])(
    'an {app} of %s is 404 unknown-app, not a 422',
    async (app) => {
      const { res, text } = await send(`/apps/${app}/things`, { name: 'abc', count: 1 });
      expect(res.status).toBe(404);
      expect((JSON.parse(text) as Problem).code).toBe('unknown-app');
      expect(text).not.toContain(app);
    },
  );
});

describe('credential-shaped keys', () => {
  it.each([
    ['a lower-case gho_ token', 'gho_' + 'a1b2c3d4e5'.repeat(3) + 'f6g7h8'],
    ['a 40-hex token', 'e72e16c7e42f292c6912e7710c838347ae178b4a'],
  ])('%s sent as an unknown key is named "(unnamed)", never echoed', async (_name, key) => {
    expect(safeSegment(key)).toBe('(unnamed)');
    const res = await testApp().request('/apps/demo/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'abc', count: 1, [key]: 1 }),
    });
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text).toContain('unknown field `(unnamed)`');
    expect(text).not.toContain(key);
  });
});

describe('a misspelt field', () => {
  it.each([
    [{ nmae: 'abc', count: 1 }, 'body', 'nmae', 'name'],
    [{ name: 'abc', count: 1, cont: 2 }, 'body', 'cont', 'count'],
    [{ name: 'abc', count: 1, nested: { levle: 'read' } }, 'body.nested', 'levle', 'level'],
  ])('%j names itself and the closest real field in detail', async (body, field, key, real) => {
    const { res, text } = await send('/apps/demo/things', body);
    expect(res.status).toBe(422);
    const problem = JSON.parse(text) as Problem;
    expect(problem.detail).toContain(
      `${field}: unknown field \`${key}\`; did you mean \`${real}\`?`,
    );
    expect(problem.errors).toContainEqual({
      field,
      message: `unknown field \`${key}\`; did you mean \`${real}\`?`,
    });
  });

  it('an unknown field unlike any real one is named without a suggestion', async () => {
    const { text } = await send('/apps/demo/things', { name: 'abc', count: 1, colour: 'red' });
    const problem = JSON.parse(text) as Problem;
    expect(problem.detail).toBe('body: unknown field `colour`');
  });

  it('closestKey finds a key within two edits, or none', () => {
    expect(closestKey('acess_token', ['access_token', 'token'])).toBe('access_token');
    expect(closestKey('access_tokne', ['access_token'])).toBe('access_token');
    expect(closestKey('scope', ['scopes', 'add_scopes'])).toBe('scopes');
    expect(closestKey('zzzzzz', ['access_token'])).toBeUndefined();
  });
});
