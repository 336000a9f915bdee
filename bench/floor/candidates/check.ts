/**
 * Does each schema-stack candidate floor keep what the gateway needs (issue 14)? Validation
 * strict — unknown keys rejected, patterns enforced, a missing field named — with issues that map
 * to the problem's field list; and an exact OpenAPI 3.1 document: the body as the component
 * `TokenCheck` with its required fields, its patterns and no other properties.
 *
 * `npx tsx bench/floor/candidates/check.ts` — runs every floor's app in Node (Hono's
 * `app.request`), prints one line per candidate, exits 1 if any assertion fails.
 */
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { writeStaticDocuments } from './generate-static';
import {
  APP_PATTERN,
  COMPONENT,
  DOC_PATH,
  ROUTE_PATH,
  TOKEN_PATTERN,
  VALID_BODY,
  type FieldError,
} from './shape';

const CANDIDATES = [
  'schema-zod-openapi',
  'schema-zod-mini',
  'schema-valibot',
  'schema-valibot-hono-openapi',
  'schema-static-zod-mini',
  'schema-static-valibot',
  'schema-none',
] as const;

/** Bodies every candidate must refuse, and the field errors it must report for each. */
const REFUSED: ReadonlyArray<{ what: string; body: unknown; errors: FieldError[] }> = [
  {
    what: 'an unknown key',
    body: { ...VALID_BODY, admin: true },
    errors: [{ field: 'body.admin', code: 'unknown_field' }],
  },
  {
    what: 'an unknown key that is not a field name (not echoed)',
    body: { ...VALID_BODY, [VALID_BODY.token]: 1 },
    errors: [{ field: 'body.(unnamed)', code: 'unknown_field' }],
  },
  {
    what: 'a token off its pattern',
    body: { ...VALID_BODY, token: 'gho_short' },
    errors: [{ field: 'body.token', code: 'pattern' }],
  },
  {
    what: 'an app off its pattern',
    body: { ...VALID_BODY, app: 'Demo' },
    errors: [{ field: 'body.app', code: 'pattern' }],
  },
  {
    what: 'a missing field',
    body: { token: VALID_BODY.token },
    errors: [{ field: 'body.app', code: 'missing' }],
  },
  {
    what: 'a wrong type',
    body: { ...VALID_BODY, scope: 7 },
    errors: [{ field: 'body.scope', code: 'type' }],
  },
];

function post(app: Hono, body: unknown): Promise<Response> | Response {
  return app.request(ROUTE_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function checkValidation(app: Hono): Promise<void> {
  const ok = await post(app, VALID_BODY);
  assert.equal(ok.status, 200, 'a valid body is accepted');
  assert.deepEqual(await ok.json(), { active: true, app: VALID_BODY.app });
  const withOptional = await post(app, { ...VALID_BODY, scope: 'repo' });
  assert.equal(withOptional.status, 200, 'the optional field is accepted');
  for (const { what, body, errors } of REFUSED) {
    const res = await post(app, body);
    assert.equal(res.status, 422, `${what} is refused`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', what);
    const text = await res.text();
    assert.deepEqual((JSON.parse(text) as { errors: unknown }).errors, errors, what);
    assert.ok(!text.includes(VALID_BODY.token), `${what}: the token is not echoed`);
  }
}

/** The component as every candidate must document it (key order and extra keywords aside). */
const EXPECTED_COMPONENT = {
  type: 'object',
  properties: {
    app: { type: 'string', pattern: APP_PATTERN },
    token: { type: 'string', pattern: TOKEN_PATTERN },
    scope: { type: 'string' },
  },
  required: ['app', 'token'],
  additionalProperties: false,
};

async function checkDocument(app: Hono): Promise<string[]> {
  const res = await app.request(DOC_PATH);
  assert.equal(res.status, 200, 'the document is served');
  const doc = (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components?: { schemas?: Record<string, Record<string, unknown>> };
  };
  assert.match(doc.openapi, /^3\.1\./, 'OpenAPI 3.1');
  const component = doc.components?.schemas?.[COMPONENT];
  assert.ok(component !== undefined, `components.schemas.${COMPONENT} exists`);
  const { required, ...rest } = component;
  assert.deepEqual([...(required as string[])].sort(), EXPECTED_COMPONENT.required, 'required');
  const { required: _r, ...expectedRest } = EXPECTED_COMPONENT;
  assert.deepEqual(rest, expectedRest, 'the component has exactly the schema’s constraints');
  const op = doc.paths[ROUTE_PATH]?.post as
    | { requestBody: { content: Record<string, { schema: unknown }> }; responses: object }
    | undefined;
  assert.ok(op !== undefined, `POST ${ROUTE_PATH} is documented`);
  assert.deepEqual(op.requestBody.content['application/json']?.schema, {
    $ref: `#/components/schemas/${COMPONENT}`,
  });
  // Not failures: differences a migration would meet.
  const notes: string[] = [];
  const responses = Object.keys(op.responses).sort();
  if (responses.join() !== '200,422') notes.push(`documents responses ${responses.join(', ')}`);
  return notes;
}

async function main(): Promise<number> {
  await writeStaticDocuments();
  let failed = 0;
  for (const name of CANDIDATES) {
    const app = ((await import(`../${name}/worker.ts`)) as { default: Hono }).default;
    try {
      await checkValidation(app);
      const notes = await checkDocument(app);
      process.stdout.write(`ok    ${name}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`FAIL  ${name}: ${(e as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
});
