/**
 * GET /openapi.json: the OpenAPI 3.1 document, built from the route table (src/routes/api.ts)
 * on its first request and kept. Schemas registered with `component` become
 * `#/components/schemas/…` references; every answer documents `X-Request-Id`; statuses every
 * route of a kind can give (a 500, the JSON body's 400/415/413) are added where not declared.
 */
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig } from '@valibot/to-json-schema';
import * as v from 'valibot';
import type { Api, ResponseSpec, RouteSpec } from './api';
import { COMPONENTS, problem } from './schemas';

export const OPENAPI_PATH = '/openapi.json';

const SECURITY_SCHEMES = {
  callerJwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "The calling service's JWT (CALLER_ISSUER, CALLER_AUDIENCE; docs/operations.md)",
  },
  gatewayJwt: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Gateway-Authorization',
    description: "`Bearer <caller JWT>`: the API gateway's own credential on forward auth",
  },
  endUserToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "The end user's GitHub token in `Authorization` (`Bearer <token>` or `token <token>`)",
  },
  ghesUser: {
    type: 'apiKey',
    in: 'header',
    name: 'X-GHES-User-Authorization',
    description:
      '`Basic base64(login:password)` of the GHES user. Never logged, stored or echoed; a two-factor code goes in `X-GitHub-OTP`.',
  },
  webhookSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: "`sha256=<HMAC-SHA-256 of the body under the app's webhook secret>`",
  },
} as const;

type Json = Record<string, unknown>;

/** Each tag a route names, described (an undescribed tag fails the OpenAPI lint). */
const TAGS: Record<string, string> = {
  operations: 'Liveness, this document and its rendered reference',
  tokens:
    "GHES's app-token API, narrowed per app: check (cached), reset, scoped, delete, grant delete",
  oauth: 'The OAuth web flow: code exchange and refresh, with the client secret added here',
  authorizations:
    'The OAuth Authorizations API as a GHES user, narrowed to one app (docs/authorizations.md)',
  introspection:
    'RFC 7662 introspection, RFC 9701 signed answers, RFC 8414 metadata and the signing keys',
  'forward auth':
    'For API gateways: nginx auth_request, Caddy forward_auth, Envoy ext_authz, Traefik forwardAuth',
  webhooks: 'GitHub App webhooks from GHES: revocations made in GHES (docs/webhooks.md)',
};

/** How every schema is converted; `#/components/schemas/…` for the named ones. */
const CONVERSION = {
  target: 'draft-2020-12',
  errorMode: 'throw',
  // Validation only: a query value's string→number step is not part of what is sent.
  typeMode: 'input',
  // Cross-field and custom rules (`v.check`) have no JSON Schema form; descriptions say them.
  ignoreActions: ['check'],
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
} as const satisfies Omit<ConversionConfig, 'definitions'>;

function converter(): (schema: v.GenericSchema) => Json {
  const config: ConversionConfig = { ...CONVERSION, definitions: COMPONENTS };
  return (schema) => {
    const { $schema: _s, $defs: _d, ...rest } = toJsonSchema(schema, config) as Json;
    return rest;
  };
}

/** OpenAPI parameters from an object schema's entries. */
function parameters(
  where: 'path' | 'query' | 'header',
  schema: v.GenericSchema | undefined,
  convert: (s: v.GenericSchema) => Json,
): Json[] {
  if (schema === undefined) return [];
  const json = convert(schema);
  const properties = (json['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, examples, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description !== undefined && { description }),
      schema: rest,
      ...(Array.isArray(examples) && examples.length > 0 && { example: examples[0] }),
    };
  });
}

const REQUEST_ID_HEADER = {
  'x-request-id': {
    description:
      'Identifies the request in the gateway log (echoed when the caller sent a plain id)',
    required: true,
    schema: { type: 'string' },
  },
};

function responses(spec: RouteSpec, convert: (s: v.GenericSchema) => Json): Record<string, Json> {
  const all: Record<number, ResponseSpec> = { ...spec.responses };
  const body = spec.request?.body;
  if (body !== undefined) {
    all[400] ??= problem('The body is not well-formed (or a parameter is repeated)');
    all[413] ??= problem('Body over the size limit');
    all[415] ??= problem(`Body is not ${body.type}`);
  }
  // src/middleware/token-in-query.ts, on every route.
  const inQuery = 'a GitHub token in the query string (`token-in-query`: treat it as exposed)';
  const declared400 = all[400];
  all[400] =
    declared400 === undefined
      ? problem(`The request carries ${inQuery}`)
      : { ...declared400, description: `${declared400.description}; or ${inQuery}` };
  all[500] ??= problem(
    'The gateway failed or is misconfigured (`internal`, `misconfigured`); the request id identifies it in the logs',
  );
  const out: Record<string, Json> = {};
  for (const [status, response] of Object.entries(all).sort(([a], [b]) => Number(a) - Number(b))) {
    const headers: Record<string, Json> = { ...REQUEST_ID_HEADER };
    for (const [name, h] of Object.entries(response.headers ?? {}))
      headers[name] = {
        description: h.description,
        required: h.required === true,
        schema: { type: 'string' },
      };
    out[status] = {
      description: response.description,
      headers,
      ...(response.content !== undefined && {
        content: Object.fromEntries(
          Object.entries(response.content).map(([type, schema]) => [
            type,
            { schema: convert(schema) },
          ]),
        ),
      }),
    };
  }
  return out;
}

function operation(spec: RouteSpec, convert: (s: v.GenericSchema) => Json): Json {
  const request = spec.request ?? {};
  const params = [
    ...parameters('path', request.params, convert),
    ...parameters('query', request.query, convert),
    ...parameters('header', request.headers, convert),
  ];
  return {
    operationId: spec.operationId,
    tags: [...spec.tags],
    summary: spec.summary,
    ...(spec.description !== undefined && { description: spec.description }),
    security:
      spec.security === undefined
        ? []
        : spec.security.map((schemes) => Object.fromEntries(schemes.map((s) => [s, []]))),
    ...(params.length > 0 && { parameters: params }),
    ...(request.body !== undefined && {
      requestBody: {
        required: true,
        content: { [request.body.type]: { schema: convert(request.body.schema) } },
      },
    }),
    responses: responses(spec, convert),
  };
}

export interface DocumentInfo {
  publicUrl: string;
}

/** The whole document. Pure: the same routes give the same document. */
export function openApiDocument(api: Pick<Api, 'routes'>, info: DocumentInfo): Json {
  const convert = converter();
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of api.routes) {
    (paths[spec.path] ??= {})[spec.method] = operation(spec, convert);
  }
  const tags = [...new Set(api.routes.map((r) => r.tags[0]))].map((name) => ({
    name,
    ...(TAGS[name] !== undefined && { description: TAGS[name] }),
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ghes-token-gateway',
      version: '1',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Narrowed access to the GitHub Enterprise Server app-token and OAuth APIs, RFC 7662 / RFC 9701 token introspection and forward auth. Errors are RFC 9457 problems with a stable `code`.',
    },
    // PUBLIC_URL, never the request's Host header.
    servers: [{ url: info.publicUrl }],
    tags,
    paths,
    components: {
      schemas: toJsonSchemaDefs(COMPONENTS, CONVERSION),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
