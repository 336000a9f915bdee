/**
 * The route table: each route is declared once as a `RouteSpec` — its path, parameters, body and
 * every answer — and that one declaration both validates the request (valibot, through
 * src/middleware/validation.ts) and documents it (src/routes/document.ts builds /openapi.json).
 * Chosen by measurement over @hono/zod-openapi (docs/performance.md): the same principle at a
 * fraction of the cold start and bundle.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type * as v from 'valibot';
import type { AppEnv } from '../context';
import { GatewayError } from '../lib/errors';
import { unwrap, type SchemaNode } from '../lib/schema';
import { readStrictJson } from '../middleware/json-body';
import { safeSegment, validate } from '../middleware/validation';

export type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
export const METHODS: readonly Method[] = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
];

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface HeaderSpec {
  description: string;
  /** Present on every answer of this status. */
  required?: boolean;
}

export interface ResponseSpec {
  description: string;
  /** Media type → body schema. None: an empty body. */
  content?: Readonly<Record<string, v.GenericSchema>>;
  headers?: Readonly<Record<string, HeaderSpec>>;
}

export interface BodySpec<S extends v.GenericSchema = v.GenericSchema> {
  type: typeof JSON_TYPE | typeof FORM_TYPE;
  schema: S;
  /** Documented only: the handler reads the raw bytes itself (a signed webhook). */
  raw?: true;
}

export interface RequestSpec {
  params?: v.GenericSchema;
  query?: v.GenericSchema;
  /** Header names in lower case. */
  headers?: v.GenericSchema;
  body?: BodySpec;
}

/** Security requirement names, from src/routes/document.ts's security schemes. */
export type SecurityScheme =
  'callerJwt' | 'gatewayJwt' | 'endUserToken' | 'ghesUser' | 'webhookSignature';

export interface RouteSpec {
  method: Method;
  /** OpenAPI style: `/v1/apps/{app}/token/check`. */
  path: string;
  operationId: string;
  tags: readonly [string];
  summary: string;
  description?: string;
  /** Each entry is one way to authenticate; its schemes are all required together. */
  security?: readonly (readonly SecurityScheme[])[];
  request?: RequestSpec;
  responses: Readonly<Record<number, ResponseSpec>>;
}

type Out<S> = S extends v.GenericSchema ? v.InferOutput<S> : undefined;

/** What a handler gets: every declared request part, validated. */
export interface Input<R extends RequestSpec | undefined> {
  params: R extends { params: infer P } ? Out<P> : undefined;
  query: R extends { query: infer Q } ? Out<Q> : undefined;
  headers: R extends { headers: infer H } ? Out<H> : undefined;
  body: R extends { body: { raw: true } }
    ? undefined
    : R extends { body: BodySpec<infer B> }
      ? Out<B>
      : undefined;
}

/** `/v1/apps/{app}` → `/v1/apps/:app` (Hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

/**
 * The query as an object: one value per name, or every value for names whose schema is an
 * array. A repeated single-valued parameter is refused (RFC 6749 §3.1 says so of OAuth requests;
 * a second value may have been appended by someone else, as Envoy passes a client's query on).
 */
function queryObject(c: Context<AppEnv>, arrays: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (arrays.has(name)) out[name] = values;
    else if (values.length > 1)
      throw new GatewayError('validation-failed', {
        detail: `query.${safeSegment(name)} must not be given more than once`,
      });
    else out[name] = values[0];
  }
  return out;
}

/** A form body the WHATWG urlencoded parser would leave as it is (nothing to percent-decode). */
const PLAIN_FORM = /^[^%+]*$/;

/**
 * The fields of a urlencoded body (WHATWG URL §5.1) and the names sent more than once. Without
 * `%` or `+` the parser decodes nothing, so the common introspection body is split by hand (no
 * URLSearchParams); anything else goes through URLSearchParams. Property-tested to agree with
 * workerd's own form parser (`formData()`).
 */
export function formFields(text: string): { fields: Record<string, string>; repeated: string[] } {
  const fields: Record<string, string> = {};
  const repeated: string[] = [];
  const add = (value: string, name: string): void => {
    if (Object.hasOwn(fields, name)) repeated.push(name);
    else fields[name] = value;
  };
  if (PLAIN_FORM.test(text)) {
    for (const pair of text.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq === -1) add('', pair);
      else add(pair.slice(eq + 1), pair.slice(0, eq));
    }
    // The constructor drops one leading `?` (a query's); the body parser keeps it: a leading `&`
    // is an empty pair, which both skip.
  } else new URLSearchParams(`&${text}`).forEach(add);
  return { fields, repeated };
}

/**
 * A form body (RFC 7662 §2.1), parsed as WHATWG URL §5.1 says (what `formData()` applies to
 * this media type; `formFields`). Errors are 400 `invalid-request`, as OAuth clients expect (RFC
 * 6749 §5.2). Unknown parameters are the schema's to ignore; a repeated one is refused.
 */
async function formObject(c: Context<AppEnv>): Promise<Record<string, string>> {
  // UTF-8 through a Response without a Content-Type: workerd warns on `.text()` of a request
  // whose type is not text/*, and an ArrayBuffer costs more than the string (docs/performance.md).
  const { fields: out, repeated } = formFields(await new Response(c.req.raw.body).text());
  if (repeated.length > 0) {
    const errors = [...new Set(repeated)].map((name) => ({
      // The one rule for repeating a caller's key (a token sent as a name is withheld).
      field: `form.${safeSegment(name)}`,
      message: 'must not be sent more than once',
    }));
    throw new GatewayError('invalid-request', {
      detail: `${errors[0]?.field ?? 'form'} must not be sent more than once`,
      extensions: { errors },
    });
  }
  return out;
}

function headerObject(c: Context<AppEnv>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = c.req.header(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Entry names of an object schema (through a pipe), for the header and query readers. */
function entriesOf(schema: v.GenericSchema | undefined): Record<string, SchemaNode> {
  return schema === undefined ? {} : (unwrap(schema).entries ?? {});
}

/**
 * The gateway's Hono app plus the table of declared routes. `route` registers a handler behind
 * its validation; `describe` adds a document entry for a route registered by hand (forward auth
 * answers every method and path below it, which one OpenAPI operation cannot say).
 */
export class Api {
  readonly routes: RouteSpec[] = [];

  constructor(readonly app: Hono<AppEnv>) {}

  /** Hono's own `use`: middleware is typed for the variables it needs, any app env. */
  use(path: string, ...handlers: MiddlewareHandler[]): void {
    this.app.use(path, ...handlers);
  }

  describe(spec: RouteSpec): void {
    this.routes.push(spec);
  }

  route<S extends RouteSpec>(
    spec: S,
    handler: (c: Context<AppEnv>, input: Input<S['request']>) => Response | Promise<Response>,
  ): void {
    this.routes.push(spec);
    const request = spec.request ?? {};
    const headerNames = Object.keys(entriesOf(request.headers));
    const queryArrays = new Set(
      Object.entries(entriesOf(request.query))
        .filter(([, s]) => unwrap(s).type === 'array')
        .map(([name]) => name),
    );

    this.app.on(spec.method.toUpperCase(), honoPath(spec.path), async function validated(c) {
      const body = request.body;
      // The body's syntax first (415, 400), as the media type and JSON rules are the same for
      // every route; then each part against its schema, path first.
      const raw =
        body === undefined || body.raw === true
          ? undefined
          : body.type === JSON_TYPE
            ? await readStrictJson(c)
            : await formObject(c);
      let params: unknown;
      if (request.params !== undefined) {
        try {
          params = validate(request.params, c.req.param(), 'path');
        } catch (e) {
          // An invalid app name is a 404, exactly like an app that is not configured.
          if (!(e instanceof GatewayError) || !/"path\.app"/.test(JSON.stringify(e.extensions)))
            throw e;
          throw new GatewayError('unknown-app', { detail: 'No app with that name is configured' });
        }
      }
      const input = {
        params,
        // A route without a query (or header) schema ignores them: nothing is read.
        query: request.query && validate(request.query, queryObject(c, queryArrays), 'query'),
        headers:
          request.headers && validate(request.headers, headerObject(c, headerNames), 'header'),
        body:
          body === undefined || body.raw === true
            ? undefined
            : body.type === JSON_TYPE
              ? validate(body.schema, raw, 'body')
              : validate(body.schema, raw, 'form', 'invalid-request'),
      } as Input<S['request']>;
      return handler(c, input);
    });
  }
}
