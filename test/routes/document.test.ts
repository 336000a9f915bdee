/**
 * The OpenAPI document (src/routes/document.ts) from a small route table: named schemas become
 * `#/components/schemas/…` references, every answer documents X-Request-Id, the statuses every
 * route of a kind can give are added (500 everywhere; 400 token-in-query everywhere; 400, 413,
 * 415 with a body), security requirements map to the schemes, and parameters come from the
 * request schemas. The gateway's own document is checked against real answers by every test that
 * uses the test gateway (test/helpers/openapi-contract.ts) and by Redocly in CI.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/context';
import { Api, JSON_TYPE, type RouteSpec } from '../../src/routes/api';
import { openApiDocument } from '../../src/routes/document';
import { AppParams, ProblemSchema, TokenBody, problem } from '../../src/routes/schemas';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const post = {
  method: 'post',
  path: '/v1/apps/{app}/token/check',
  operationId: 'checkToken',
  tags: ['tokens'],
  summary: 'Check',
  security: [['callerJwt']],
  request: { params: AppParams, body: { type: JSON_TYPE, schema: TokenBody } },
  responses: {
    200: { description: 'ok', content: { [JSON_TYPE]: v.object({ ok: v.boolean() }) } },
    400: problem('Malformed'),
    404: problem('Unknown', { 'cache-status': { description: 'RFC 9211' } }),
  },
} satisfies RouteSpec;

const get = {
  method: 'get',
  path: '/v1/apps/{app}/grants',
  operationId: 'listGrants',
  tags: ['authorizations'],
  summary: 'List',
  security: [['callerJwt', 'ghesUser']],
  request: {
    params: AppParams,
    query: v.object({
      page: v.optional(v.pipe(v.string(), v.regex(/^[0-9]+$/), v.transform(Number))),
    }),
    headers: v.object({ 'x-github-otp': v.optional(v.pipe(v.string(), v.description('OTP'))) }),
  },
  responses: { 204: { description: 'none' } },
} satisfies RouteSpec;

function documentOf(...routes: RouteSpec[]): Json {
  const api = new Api(new Hono<AppEnv>());
  for (const r of routes) api.describe(r);
  return openApiDocument(api, { publicUrl: 'https://gateway.example' }) as Json;
}

describe('openApiDocument', () => {
  const doc = documentOf(post, get);
  const check = doc['paths']['/v1/apps/{app}/token/check']['post'];
  const list = doc['paths']['/v1/apps/{app}/grants']['get'];

  it('is OpenAPI 3.1 with the public URL as its server and described tags', () => {
    expect(doc['openapi']).toBe('3.1.0');
    expect(doc['servers']).toEqual([{ url: 'https://gateway.example' }]);
    expect(doc['tags']).toEqual([
      { name: 'tokens', description: expect.any(String) },
      { name: 'authorizations', description: expect.any(String) },
    ]);
  });

  it('names each operation and maps its security to the schemes', () => {
    expect(check).toMatchObject({
      operationId: 'checkToken',
      tags: ['tokens'],
      security: [{ callerJwt: [] }],
    });
    expect(list.security).toEqual([{ callerJwt: [], ghesUser: [] }]);
    for (const name of ['callerJwt', 'ghesUser', 'gatewayJwt', 'endUserToken', 'webhookSignature'])
      expect(doc['components']['securitySchemes']).toHaveProperty(name);
  });

  it('refers to named schemas, and holds them once under components', () => {
    expect(check.requestBody).toEqual({
      required: true,
      content: { [JSON_TYPE]: { schema: { $ref: '#/components/schemas/TokenRequest' } } },
    });
    expect(doc['components']['schemas']['TokenRequest']).toMatchObject({
      type: 'object',
      required: ['access_token'],
      additionalProperties: false,
    });
    expect(check.responses['404'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(ProblemSchema).toBeDefined();
  });

  it('adds the statuses every route of its kind can give, and X-Request-Id on every answer', () => {
    expect(Object.keys(check.responses)).toEqual(['200', '400', '404', '413', '415', '500']);
    expect(check.responses['400'].description).toMatch(/^Malformed; or .*token-in-query/);
    expect(Object.keys(list.responses)).toEqual(['204', '400', '500']);
    for (const op of [check, list])
      for (const answer of Object.values(op.responses) as Json[])
        expect(answer['headers']['x-request-id']).toMatchObject({ required: true });
    expect(check.responses['404'].headers['cache-status']).toMatchObject({ required: false });
  });

  it('documents path, query and header parameters from the request schemas', () => {
    expect(list.parameters).toEqual([
      expect.objectContaining({ name: 'app', in: 'path', required: true }),
      expect.objectContaining({
        name: 'page',
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: '^[0-9]+$' },
      }),
      expect.objectContaining({
        name: 'x-github-otp',
        in: 'header',
        required: false,
        description: 'OTP',
      }),
    ]);
  });

  it('is the same document every time it is built', () => {
    expect(JSON.stringify(documentOf(post, get))).toBe(JSON.stringify(doc));
  });
});
