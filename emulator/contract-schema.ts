/**
 * Validates emulator answers against GitHub's OpenAPI 3.0 description of one GHES release
 * (`@octokit/openapi` or ../shared/ghes-openapi, handed over by test/global-setup.ts).
 * @cfworker/json-schema runs inside workerd (no eval); OpenAPI 3.0's `nullable: true` is not JSON
 * Schema, so every schema with it becomes `anyOf: [schema, {type: "null"}]` (this also covers the
 * 2.18 – 2.21 documents, whose `nullable` has no `type` beside it), and local `$ref`s are made
 * absolute so one dereferenced lookup per release serves every check. Example values are dropped.
 */
import { dereference, validate, type OutputUnit, type Schema } from '@cfworker/json-schema';
import type { ApiOperation } from './operations';

type Json = unknown;
type JsonObject = Record<string, Json>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, JsonObject>>;
  components: {
    schemas: Record<string, JsonObject>;
    responses?: Record<string, JsonObject>;
  };
}

/** Where each operation lives in GitHub's description. */
export const OPENAPI_OPERATIONS: Readonly<Record<ApiOperation, { path: string; method: string }>> =
  {
    check: { path: '/applications/{client_id}/token', method: 'post' },
    reset: { path: '/applications/{client_id}/token', method: 'patch' },
    delete: { path: '/applications/{client_id}/token', method: 'delete' },
    grant: { path: '/applications/{client_id}/grant', method: 'delete' },
    scoped: { path: '/applications/{client_id}/token/scoped', method: 'post' },
    legacy_check: { path: '/applications/{client_id}/tokens/{access_token}', method: 'get' },
    legacy_reset: { path: '/applications/{client_id}/tokens/{access_token}', method: 'post' },
    legacy_delete: { path: '/applications/{client_id}/tokens/{access_token}', method: 'delete' },
    legacy_grant: { path: '/applications/{client_id}/grants/{access_token}', method: 'delete' },
    list_grants: { path: '/applications/grants', method: 'get' },
    get_grant: { path: '/applications/grants/{grant_id}', method: 'get' },
    delete_grant: { path: '/applications/grants/{grant_id}', method: 'delete' },
    list_authorizations: { path: '/authorizations', method: 'get' },
    create_authorization: { path: '/authorizations', method: 'post' },
    get_or_create_authorization: { path: '/authorizations/clients/{client_id}', method: 'put' },
    get_or_create_authorization_fingerprint: {
      path: '/authorizations/clients/{client_id}/{fingerprint}',
      method: 'put',
    },
    get_authorization: { path: '/authorizations/{authorization_id}', method: 'get' },
    update_authorization: { path: '/authorizations/{authorization_id}', method: 'patch' },
    delete_authorization: { path: '/authorizations/{authorization_id}', method: 'delete' },
    get_user: { path: '/user', method: 'get' },
  };

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OpenAPI 3.0 schema → JSON Schema 2019-09, with `#/…` refs made absolute against `base`. */
export function toJsonSchema(node: Json, base: string): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, base));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // `example(s)` are annotations whose values (e.g. {"id": 1}) a JSON-Schema library would
    // mistake for schema ids.
    if (key === 'nullable' || key === 'example' || key === 'examples') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#'))
      out[key] = `${base}${value}`;
    else if (key === 'properties' && isObject(value)) {
      // Keys here are property names, not keywords: convert the values only.
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, s]) => [name, toJsonSchema(s, base)]),
      );
    } else out[key] = toJsonSchema(value, base);
  }
  return node['nullable'] === true ? { anyOf: [out, { type: 'null' }] } : out;
}

export type Checked =
  | { kind: 'documented'; status: string; errors: OutputUnit[] }
  | { kind: 'no-content'; status: string; errors: OutputUnit[] }
  /** Status GitHub's description does not list for the operation: checked as `basic-error`. */
  | { kind: 'undocumented'; status: string; errors: OutputUnit[] };

export class ReleaseContract {
  private readonly base: string;
  private readonly doc: OpenApiDocument;
  private readonly lookup: Record<string, Schema | boolean>;

  constructor(
    readonly version: string,
    raw: OpenApiDocument,
  ) {
    this.base = `https://ghes-openapi.invalid/${version}.json`;
    this.doc = toJsonSchema(raw, this.base) as OpenApiDocument;
    this.lookup = dereference({ ...(this.doc as unknown as Schema), $id: this.base });
  }

  has(op: ApiOperation): boolean {
    const { path, method } = OPENAPI_OPERATIONS[op];
    return this.doc.paths[path]?.[method] !== undefined;
  }

  /** Status codes the description lists for the operation. */
  documentedStatuses(op: ApiOperation): string[] {
    return Object.keys(this.operation(op)['responses'] as JsonObject);
  }

  private operation(op: ApiOperation): JsonObject {
    const { path, method } = OPENAPI_OPERATIONS[op];
    const operation = this.doc.paths[path]?.[method];
    if (!operation)
      throw new Error(`GHES ${this.version} describes no ${method.toUpperCase()} ${path}`);
    return operation;
  }

  /** The JSON-Schema a component schema is known by, e.g. "app-permissions". */
  componentSchema(name: string): JsonObject {
    const schema = this.doc.components.schemas[name];
    if (!schema) throw new Error(`GHES ${this.version} has no schema ${name}`);
    return schema;
  }

  private responseObject(op: ApiOperation, status: string): JsonObject | undefined {
    let response = (this.operation(op)['responses'] as JsonObject)[status];
    if (isObject(response) && typeof response['$ref'] === 'string') {
      const name = response['$ref'].split('/').pop() ?? '';
      response = this.doc.components.responses?.[name];
    }
    return isObject(response) ? response : undefined;
  }

  /** Validates one answer of `op` with HTTP `status` and parsed JSON `body` (undefined if empty). */
  check(op: ApiOperation, status: number, body: Json): Checked {
    const key = String(status);
    const response = this.responseObject(op, key);
    if (!response) {
      const schema = { $ref: `${this.base}#/components/schemas/basic-error` } as Schema;
      return { kind: 'undocumented', status: key, errors: this.run(body, schema) };
    }
    const content = response['content'];
    if (!isObject(content)) {
      const errors: OutputUnit[] =
        body === undefined
          ? []
          : [
              {
                keyword: 'content',
                keywordLocation: '#',
                instanceLocation: '#',
                error: 'expected no body',
              },
            ];
      return { kind: 'no-content', status: key, errors };
    }
    const media = content['application/json'];
    const schema = isObject(media) ? media['schema'] : undefined;
    if (!isObject(schema)) throw new Error(`GHES ${this.version} ${op} ${key}: no JSON schema`);
    return { kind: 'documented', status: key, errors: this.run(body, schema as Schema) };
  }

  /**
   * Validates `body` against one component schema, e.g. "private-user": which branch of a `oneOf`
   * answer (GET /user: private-user or public-user) it is.
   */
  checkComponent(name: string, body: Json): OutputUnit[] {
    this.componentSchema(name);
    return this.run(body, { $ref: `${this.base}#/components/schemas/${name}` } as Schema);
  }

  /** The 200 answer's schema of `op` as described (before conversion), for tests to inspect. */
  successSchema(op: ApiOperation): Json {
    const media = (this.responseObject(op, '200')?.['content'] as JsonObject | undefined)?.[
      'application/json'
    ];
    return isObject(media) ? media['schema'] : undefined;
  }

  private run(body: Json, schema: Schema): OutputUnit[] {
    const result = validate(body, schema, '2019-09', this.lookup, false);
    return result.valid ? [] : result.errors;
  }
}

/** The provided release → document map (test/helpers/ghes-contract.ts), shape-checked. */
export function parseContract(
  versions: Record<string, Record<string, unknown>>,
): Record<string, OpenApiDocument> {
  for (const [version, doc] of Object.entries(versions)) {
    if (!isObject(doc['paths']) || !isObject(doc['components']))
      throw new Error(`the GHES ${version} description has no paths or components`);
  }
  return versions as unknown as Record<string, OpenApiDocument>;
}
