/**
 * What the soak holds every answer to: the status codes each route documents in the gateway's
 * own `/openapi.json` (read from the running worker, so the soak and the documentation cannot
 * drift apart), the problem codes of the `Problem` schema, and the body shape of each answer.
 */

export type Op =
  'check' | 'introspect' | 'forward_auth' | 'reset' | 'delete' | 'grant_delete' | 'scoped';

export const OPS: readonly Op[] = [
  'check',
  'introspect',
  'forward_auth',
  'reset',
  'delete',
  'grant_delete',
  'scoped',
];

/** The OpenAPI path and method that document each operation. */
const DOCUMENTED_AT: Record<Op, { path: string; method: string }> = {
  check: { path: '/v1/apps/{app}/token/check', method: 'post' },
  reset: { path: '/v1/apps/{app}/token/reset', method: 'post' },
  scoped: { path: '/v1/apps/{app}/token/scoped', method: 'post' },
  delete: { path: '/v1/apps/{app}/token/delete', method: 'post' },
  grant_delete: { path: '/v1/apps/{app}/grant/delete', method: 'post' },
  introspect: { path: '/introspect', method: 'post' },
  forward_auth: { path: '/forward-auth/{path}', method: 'get' },
};

export interface Contract {
  statuses: Record<Op, ReadonlySet<number>>;
  problemCodes: ReadonlySet<string>;
}

interface OpenApiDoc {
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, { properties?: { code?: { enum?: string[] } } }> };
}

/** Reads the contract from the gateway's OpenAPI document; throws naming what is missing. */
export function contractFrom(doc: OpenApiDoc): Contract {
  const statuses = {} as Record<Op, ReadonlySet<number>>;
  for (const op of OPS) {
    const { path, method } = DOCUMENTED_AT[op];
    const responses = doc.paths?.[path]?.[method]?.responses;
    if (responses === undefined)
      throw new Error(`/openapi.json documents no ${method.toUpperCase()} ${path}`);
    statuses[op] = new Set(Object.keys(responses).map(Number));
  }
  const codes = doc.components?.schemas?.['Problem']?.properties?.code?.enum;
  if (codes === undefined || codes.length === 0)
    throw new Error('/openapi.json has no Problem schema with a code enum');
  return { statuses, problemCodes: new Set(codes) };
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** RFC 9211 Cache-Status, when the answer has one. */
  cacheStatus?: string;
}

/** Why `answer` is not a well-formed answer to `op`, or undefined. */
export function bodyProblem(contract: Contract, op: Op, answer: Answer): string | undefined {
  const { status, contentType, body } = answer;
  if (status >= 400) {
    if (contentType !== 'application/problem+json') return `content-type ${contentType}`;
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return 'problem body is not JSON';
    }
    if (typeof p['code'] !== 'string' || !contract.problemCodes.has(p['code']))
      return `unknown problem code ${String(p['code'])}`;
    if (p['type'] !== `urn:ghes-token-gateway:problem:${p['code']}`) return 'type/code mismatch';
    if (p['status'] !== status) return 'status member differs from the HTTP status';
    if (typeof p['title'] !== 'string') return 'problem without a title';
    return undefined;
  }
  if (status === 204) return body === '' ? undefined : '204 with a body';
  if (op === 'forward_auth') return body === '' ? undefined : 'forward-auth 200 with a body';
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return `${op} 200 body is not JSON`;
  }
  switch (op) {
    case 'check':
      if (typeof json['token_last_eight'] !== 'string') return 'check without token_last_eight';
      if ('token' in json || 'hashed_token' in json) return 'check answer carries a token';
      return undefined;
    case 'introspect':
      if (json['active'] === false)
        return body === '{"active":false}' ? undefined : 'inactive answer says more than active';
      if (json['active'] !== true || json['token_type'] !== 'bearer')
        return 'introspection answer malformed';
      return undefined;
    case 'reset':
    case 'scoped':
      if (typeof json['token'] !== 'string' || !/^gh[ou]_[A-Za-z0-9]{36}$/.test(json['token']))
        return `${op} answer without a new token`;
      if ('hashed_token' in json) return `${op} answer carries hashed_token`;
      return undefined;
    default:
      return `${op} answered ${status}`;
  }
}

/** Whether the answer says the token is good. */
export function saysActive(op: Op, answer: Answer): boolean {
  if (answer.status !== 200) return false;
  if (op === 'introspect') return answer.body.startsWith('{"active":true');
  return op === 'check' || op === 'forward_auth';
}
