/**
 * The route table (src/routes/api.ts) on a small app of its own: how each request part is read
 * and refused — path, query (arrays, repeats), headers, a JSON body (media type, syntax) and a
 * form body (repeats, 400 rather than 422) — and that a part a route does not declare is ignored.
 * The document side is test/routes/document.test.ts.
 */
import fc from 'fast-check';
import { Hono } from 'hono';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/context';
import { isGatewayError, problemResponse } from '../../src/lib/errors';
import {
  Api,
  FORM_TYPE,
  JSON_TYPE,
  formFields,
  honoPath,
  type RouteSpec,
} from '../../src/routes/api';

const base = {
  tags: ['test'],
  summary: 'test',
  responses: { 200: { description: 'ok' } },
} as const;

const queryRoute = {
  ...base,
  method: 'get',
  path: '/things',
  operationId: 'things',
  request: {
    query: v.object({ one: v.optional(v.string()), many: v.optional(v.array(v.string())) }),
    headers: v.object({ 'x-mode': v.optional(v.picklist(['fast', 'slow'])) }),
  },
} satisfies RouteSpec;

const bare = { ...base, method: 'get', path: '/bare', operationId: 'bare' } satisfies RouteSpec;

const formRoute = {
  ...base,
  method: 'post',
  path: '/form',
  operationId: 'form',
  request: {
    body: { type: FORM_TYPE, schema: v.object({ token: v.pipe(v.string(), v.minLength(1)) }) },
  },
} satisfies RouteSpec;

const jsonRoute = {
  ...base,
  method: 'post',
  path: '/apps/{app}/json',
  operationId: 'json',
  request: {
    params: v.object({ app: v.pipe(v.string(), v.regex(/^[a-z]+$/)) }),
    body: { type: JSON_TYPE, schema: v.strictObject({ n: v.number() }) },
  },
} satisfies RouteSpec;

function testApi() {
  const app = new Hono<AppEnv>();
  const api = new Api(app);
  const seen: unknown[] = [];
  api.route(queryRoute, (c, input) => (seen.push(input), c.json({}, 200)));
  api.route(bare, (c, input) => (seen.push(input), c.json({}, 200)));
  api.route(formRoute, (c, input) => (seen.push(input), c.json({}, 200)));
  api.route(jsonRoute, (c, input) => (seen.push(input), c.json({}, 200)));
  app.onError((err) => {
    if (isGatewayError(err)) return problemResponse(err);
    throw err;
  });
  return { app, api, seen };
}

async function problemOf(res: Response) {
  return (await res.json()) as { code: string; detail: string; errors?: { field: string }[] };
}

describe('the route table', () => {
  it('turns OpenAPI paths into Hono paths', () => {
    expect(honoPath('/v1/apps/{app}/authorizations/{id}')).toBe('/v1/apps/:app/authorizations/:id');
  });

  it('hands the handler every declared part, validated; array parameters keep every value', async () => {
    const { app, seen } = testApi();
    const res = await app.request('/things?one=a&many=x&many=y&other=z', {
      headers: { 'x-mode': 'fast' },
    });
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      {
        params: undefined,
        query: { one: 'a', many: ['x', 'y'] },
        headers: { 'x-mode': 'fast' },
        body: undefined,
      },
    ]);
  });

  it('refuses a single-valued query parameter given twice (422 naming it)', async () => {
    const res = await testApi().app.request('/things?one=a&one=b');
    expect(res.status).toBe(422);
    expect((await problemOf(res)).detail).toBe('query.one must not be given more than once');
  });

  it('a repeated query name that is not a field name is not repeated back', async () => {
    const res = await testApi().app.request('/things?many=1&one=a&one=b&%22%3Cx%3E=1&%22%3Cx%3E=2');
    expect(res.status).toBe(422);
    expect((await problemOf(res)).detail).toBe('query.one must not be given more than once');
    const odd = await testApi().app.request('/things?%22%3Cx%3E=1&%22%3Cx%3E=2');
    expect((await problemOf(odd)).detail).toBe('query.(unnamed) must not be given more than once');
  });

  it('a route without a query schema reads no query: repeats and oddities are ignored', async () => {
    const { app, seen } = testApi();
    const res = await app.request('/bare?one=a&one=b&%zz=1');
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      { params: undefined, query: undefined, headers: undefined, body: undefined },
    ]);
  });

  it('a header off its schema is a 422 naming header.<name>', async () => {
    const res = await testApi().app.request('/things', { headers: { 'x-mode': 'warp' } });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).errors?.[0]?.field).toBe('header.x-mode');
  });

  it('a form parameter sent twice, or a form failing its schema, is 400 invalid-request', async () => {
    const { app } = testApi();
    const form = (body: string) =>
      app.request('/form', { method: 'POST', headers: { 'content-type': FORM_TYPE }, body });
    const repeated = await form('token=a&token=b');
    expect(repeated.status).toBe(400);
    expect(await problemOf(repeated)).toMatchObject({
      code: 'invalid-request',
      errors: [{ field: 'form.token', message: 'must not be sent more than once' }],
    });
    const empty = await form('token=');
    expect(empty.status).toBe(400);
    expect((await problemOf(empty)).errors?.[0]?.field).toBe('form.token');
  });

  it('reads a form body as UTF-8 the way the WHATWG decoder does: BOM dropped, bad bytes replaced', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
        async (bom, bytes) => {
          const { app, seen } = testApi();
          const value = bytes.filter((b) => b !== 0x26 && b !== 0x3d && b !== 0x25 && b !== 0x2b);
          fc.pre(value.length > 0);
          const prefix = new TextEncoder().encode(`${bom ? '\uFEFF' : ''}token=`);
          const body = new Uint8Array([...prefix, ...value]);
          const res = await app.request('/form', {
            method: 'POST',
            headers: { 'content-type': FORM_TYPE },
            body,
          });
          expect(res.status).toBe(200);
          const expected = new TextDecoder().decode(value);
          expect(seen).toEqual([{ body: { token: expected } }]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a repeated form parameter whose name is token-shaped is not repeated back', async () => {
    const name = 'gho_' + 'a1b2c3d4e5'.repeat(3) + 'f6g7h8';
    const res = await testApi().app.request('/form', {
      method: 'POST',
      headers: { 'content-type': FORM_TYPE },
      body: `token=a&${name}=1&${name}=2`,
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain(name);
    expect(JSON.parse(text)).toMatchObject({ errors: [{ field: 'form.(unnamed)' }] });
  });

  it.each([
    ['text/plain', 415],
    ['application/json ;x', 415],
    ['application/json, text/plain', 415],
    ['application/json; charset=utf-8', 200],
    ['APPLICATION/JSON', 200],
  ])('a JSON body sent as %j → %i', async (type, status) => {
    const res = await testApi().app.request('/apps/demo/json', {
      method: 'POST',
      headers: { 'content-type': type },
      body: '{"n":1}',
    });
    expect(res.status).toBe(status);
  });

  it('malformed JSON is 400, checked before the path; a bad app in the path is 404 unknown-app', async () => {
    const { app } = testApi();
    const send = (path: string, body: string) =>
      app.request(path, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body });
    const malformed = await send('/apps/BAD/json', '{"n":');
    expect(malformed.status).toBe(400);
    const unknown = await send('/apps/BAD/json', '{"n":1}');
    expect(unknown.status).toBe(404);
    expect((await problemOf(unknown)).code).toBe('unknown-app');
  });

  it('describe() documents a route without registering a handler', async () => {
    const { app, api } = testApi();
    api.describe({ ...bare, path: '/described', operationId: 'described' });
    expect(api.routes.map((r) => r.operationId)).toContain('described');
    expect((await app.request('/described')).status).toBe(404);
  });
});

describe('formFields', () => {
  /**
   * The WHATWG urlencoded parser: URLSearchParams' (ada's), past its constructor's one quirk of
   * dropping a leading `?`. Not `formData()`: workerd's drops an invalid percent sequence ("%"
   * becomes ""), where the standard keeps it.
   */
  function reference(text: string): ReturnType<typeof formFields> {
    const fields: Record<string, string> = {};
    const repeated: string[] = [];
    // The `?` added here is the one the constructor drops.
    const pairs = new URLSearchParams(`?${text}`);
    pairs.forEach((value, name) => {
      if (Object.hasOwn(fields, name)) repeated.push(name);
      else fields[name] = value;
    });
    return { fields, repeated };
  }

  it('agrees with the WHATWG urlencoded parser on any body, plain or encoded', () => {
    // Bodies built from the characters that matter to the parser, and arbitrary text.
    const part = fc.stringMatching(/^[a-z_=&%+?0-9A-F\u00e9 ]{0,12}$/);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(part, { maxLength: 6 }).map((p) => p.join('&')),
          fc.string({ unit: 'binary' }),
        ),
        (text) => {
          expect(formFields(text)).toEqual(reference(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('splits a plain body without decoding and names repeats', () => {
    expect(formFields('token=gho_x&app=demo&&flag&token=2&a==b')).toEqual({
      fields: { token: 'gho_x', app: 'demo', flag: '', a: '=b' },
      repeated: ['token'],
    });
    expect(formFields('token=a%2Bb+c')).toEqual({ fields: { token: 'a+b c' }, repeated: [] });
    // A leading `?` belongs to the first name in a body (URLSearchParams' constructor drops it).
    expect(formFields('?a=1')).toEqual({ fields: { '?a': '1' }, repeated: [] });
    expect(formFields('?a=%31')).toEqual({ fields: { '?a': '1' }, repeated: [] });
  });
});
