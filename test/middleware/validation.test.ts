/**
 * The zod-openapi validation hook (src/middleware/validation.ts) on a small app of its own: each
 * failure is a 422 `validation-failed` problem naming the field (`body.…`, `path.…`, `query.…`),
 * an invalid `{app}` is 404 `unknown-app`, and no submitted value is echoed.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { isGatewayError, problemResponse } from '../../src/lib/errors';
import { safeSegment, validationHook } from '../../src/middleware/validation';
import { APP_NAME_PATTERN } from '../../src/config/types';

const route = createRoute({
  method: 'post',
  path: '/apps/{app}/things',
  request: {
    params: z.object({ app: z.string().regex(APP_NAME_PATTERN) }),
    query: z.object({ mode: z.enum(['fast', 'slow']).optional() }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({
            name: z.string().regex(/^[a-z]+$/, 'must be lower-case letters'),
            count: z.number().int(),
            nested: z.object({ level: z.enum(['read', 'write']) }).optional(),
          }),
        },
      },
    },
  },
  responses: { 200: { description: 'ok' } },
});

function testApp() {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(route, (c) => c.json({ ok: true }, 200));
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
    expect(text).toContain('unknown field: (unnamed)');
    expect(text).not.toContain(key);
  });
});
