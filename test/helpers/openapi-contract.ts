/**
 * Every answer a test gateway gives is checked against the gateway's own /openapi.json
 * (test/helpers/gateway.ts calls `checkAnswer` on each): the status is declared for the
 * operation, the media type is one it declares, every header it marks required is present, and
 * a JSON body validates against its schema (JSON Schema 2020-12, @cfworker/json-schema). A path
 * or method no operation has must be the gateway's 404 `not-found` / 405 problem. A violation
 * throws, failing the test that made the request.
 */
import { Validator, type Schema } from '@cfworker/json-schema';

interface Operation {
  responses: Record<
    string,
    {
      content?: Record<string, { schema: Schema }>;
      headers?: Record<string, { required?: boolean }>;
    }
  >;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

interface Compiled {
  routes: { pattern: RegExp; literal: number; item: Record<string, Operation> }[];
  validate: (schema: Schema, value: unknown) => string[];
  problem: Schema;
}

const compiled = new Map<string, Compiled>();

function compile(text: string): Compiled {
  const found = compiled.get(text);
  if (found !== undefined) return found;
  // `#/components/schemas/X` as `#/$defs/X`, so that each body schema carries what it refers to.
  const doc = JSON.parse(text.replaceAll('#/components/schemas/', '#/$defs/')) as Document;
  const routes = Object.entries(doc.paths)
    .map(([path, item]) => ({
      item,
      // Literal segments first: /forward-auth before /forward-auth/{path}.
      literal: path.split('/').filter((s) => !s.startsWith('{')).length,
      pattern: new RegExp(
        `^${path
          .split('/')
          .map((s) =>
            s === '{path}'
              ? '.*'
              : s.startsWith('{')
                ? '[^/]+'
                : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('/')}$`,
      ),
    }))
    .sort((a, b) => b.literal - a.literal);
  const validate = (schema: Schema, value: unknown): string[] => {
    const result = new Validator(
      { ...schema, $defs: doc.components.schemas } as Schema,
      '2020-12',
      false,
    ).validate(value);
    return result.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
  };
  const entry = { routes, validate, problem: { $ref: '#/$defs/Problem' } as Schema };
  compiled.set(text, entry);
  return entry;
}

/** The violations of one answer; empty when it is as documented. */
export async function contractViolations(
  documentText: string,
  request: Request,
  response: Response,
): Promise<string[]> {
  const { routes, validate, problem } = compile(documentText);
  const url = new URL(request.url);
  const method = request.method.toLowerCase();
  const where = `${request.method} ${url.pathname} → ${response.status}`;
  const body = new TextDecoder().decode(await response.clone().arrayBuffer());
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const route = routes.find((r) => r.pattern.test(url.pathname));
  // RFC 9110 §9.3.2: HEAD is GET without the body; Hono answers it for every GET route.
  const operation = route?.item[method] ?? (method === 'head' ? route?.item['get'] : undefined);
  if (operation === undefined) {
    // Not an operation: the gateway's own 404 / 405 — or 401, where caller auth covers a whole
    // prefix (/v1/*) and answers first, so that strangers learn nothing about routes; or 400
    // `token-in-query`, which every request is checked for first.
    if (![400, 401, 404, 405].includes(response.status))
      return [`${where}: no operation ${method} for this path, yet not a 400/401/404/405`];
    if (type !== 'application/problem+json') return [`${where}: not a problem (${type})`];
    if (method === 'head') return [];
    return validate(problem, JSON.parse(body)).map((e) => `${where}: ${e}`);
  }
  const declared = operation.responses[String(response.status)];
  if (declared === undefined)
    return [
      `${where}: status not declared (declared: ${Object.keys(operation.responses).join(', ')})`,
    ];
  const errors: string[] = [];
  for (const [name, header] of Object.entries(declared.headers ?? {}))
    if (header.required === true && !response.headers.has(name))
      errors.push(`${where}: required header ${name} missing`);
  const content = declared.content;
  if (content === undefined || method === 'head') {
    if (body.length > 0 && method !== 'head')
      errors.push(`${where}: a body where none is declared`);
    return errors;
  }
  const media = content[type];
  if (media === undefined) {
    errors.push(
      `${where}: media type ${type || '(none)'} not declared (${Object.keys(content).join(', ')})`,
    );
    return errors;
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [...errors, `${where}: body is not JSON`];
    }
    errors.push(...validate(media.schema, value).map((e) => `${where}: ${e}`));
  } else if (body.length === 0) errors.push(`${where}: empty ${type} body`);
  return errors;
}
