/**
 * Contract of the OAuth Authorizations API, for every release GitHub describes (2.18 – 3.22, as
 * contract.test.ts): the emulator serves exactly the described operations (all of them, in every
 * release), and every answer, success and error, validates against that release's schema
 * (statuses the description does not list are checked as `basic-error`).
 */
import { describe, expect, it } from 'vitest';
import { ghesContract } from '../test/helpers/ghes-contract';
import { parseContract, ReleaseContract, type Checked } from './contract-schema';
import {
  AUTHORIZATION_OPERATIONS,
  createGhesEmulator,
  type AuthorizationOperation,
  type GhesEmulator,
} from './index';
import { basic, credentials, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

const versions = parseContract(ghesContract().versions);

interface Request {
  method: string;
  path: string;
  body?: unknown;
  auth?: 'octocat' | 'monalisa' | 'wrong' | 'none';
  otp?: boolean;
}

async function send(ghes: GhesEmulator, r: Request): Promise<Response> {
  const headers: Record<string, string> = {};
  const login = r.auth === 'monalisa' ? 'monalisa' : 'octocat';
  const password = r.auth === 'wrong' ? 'nope' : (ghes.seed?.passwords[login] ?? '');
  if (r.auth !== 'none') headers['authorization'] = basic(login, password);
  if (r.otp) {
    const res = await ghes.fetch(`${GHES_ORIGIN}/_emulator/users/${login}/otp`);
    headers['x-github-otp'] = (await jsonOf(res))['otp'] as string;
  }
  if (r.body !== undefined) headers['content-type'] = 'application/json';
  return ghes.fetch(`${GHES_ORIGIN}/api/v3${r.path}`, {
    method: r.method,
    headers,
    ...(r.body !== undefined && { body: JSON.stringify(r.body) }),
  });
}

function secret(ghes: GhesEmulator): { id: string; secret: string } {
  const { clientId, secret: s } = credentials(ghes, 'demo-oauth');
  return { id: clientId, secret: s };
}

/** octocat's authorization of demo-oauth (the seed's first token). */
const SEED_AUTHORIZATION = 1;

/** A valid request of each operation, as octocat. */
function valid(ghes: GhesEmulator, op: AuthorizationOperation): Request {
  const { id, secret: s } = secret(ghes);
  switch (op) {
    case 'list_grants':
      return { method: 'GET', path: '/applications/grants' };
    case 'get_grant':
      return { method: 'GET', path: '/applications/grants/1' };
    case 'delete_grant':
      return { method: 'DELETE', path: '/applications/grants/1' };
    case 'list_authorizations':
      return { method: 'GET', path: '/authorizations' };
    case 'create_authorization':
      return {
        method: 'POST',
        path: '/authorizations',
        body: { client_id: id, client_secret: s, scopes: ['repo'], note: 'n', fingerprint: 'f' },
      };
    case 'get_or_create_authorization':
      return { method: 'PUT', path: `/authorizations/clients/${id}`, body: { client_secret: s } };
    case 'get_or_create_authorization_fingerprint':
      return {
        method: 'PUT',
        path: `/authorizations/clients/${id}/laptop`,
        body: { client_secret: s, scopes: ['gist'], note_url: 'https://n.example/' },
      };
    case 'get_authorization':
      return { method: 'GET', path: `/authorizations/${SEED_AUTHORIZATION}` };
    case 'update_authorization':
      return {
        method: 'PATCH',
        path: `/authorizations/${SEED_AUTHORIZATION}`,
        body: { add_scopes: ['gist'] },
      };
    case 'delete_authorization':
      return { method: 'DELETE', path: `/authorizations/${SEED_AUTHORIZATION}` };
  }
}

interface Scenario {
  name: string;
  status: number;
  request: (ghes: GhesEmulator) => Request;
  setup?: (ghes: GhesEmulator) => unknown;
}

const SUCCESS: Readonly<Record<AuthorizationOperation, number>> = {
  list_grants: 200,
  get_grant: 200,
  delete_grant: 204,
  list_authorizations: 200,
  create_authorization: 201,
  get_or_create_authorization: 200,
  get_or_create_authorization_fingerprint: 201,
  get_authorization: 200,
  update_authorization: 200,
  delete_authorization: 204,
};

function scenarios(op: AuthorizationOperation): Scenario[] {
  const list: Scenario[] = [
    { name: 'success', status: SUCCESS[op], request: (g) => valid(g, op) },
    { name: 'no credentials', status: 401, request: (g) => ({ ...valid(g, op), auth: 'none' }) },
    { name: 'wrong password', status: 401, request: (g) => ({ ...valid(g, op), auth: 'wrong' }) },
    { name: 'OTP missing', status: 401, request: (g) => ({ ...valid(g, op), auth: 'monalisa' }) },
    {
      name: 'server error',
      status: 500,
      request: (g) => valid(g, op),
      setup: (g) => void g.addFault({ status: 500 }),
    },
    {
      name: 'secondary rate limit',
      status: 403,
      request: (g) => valid(g, op),
      setup: (g) => void g.addFault({ status: 403, secondary_rate_limit: true }),
    },
  ];
  if (op.startsWith('get_or_create')) {
    const created = op === 'get_or_create_authorization' ? 201 : 200;
    list.push(
      {
        name: created === 201 ? 'created (monalisa, with OTP)' : 'existing',
        status: created,
        request: (g) => ({
          ...valid(g, op),
          auth: created === 201 ? 'monalisa' : 'octocat',
          otp: true,
        }),
        // monalisa's seed token of demo-oauth would be the existing authorization.
        setup: (g) =>
          created === 201
            ? g.revokeToken(g.seed?.tokens.monalisaOauth ?? '')
            : send(g, valid(g, op)),
      },
      {
        name: 'wrong client secret',
        status: 422,
        request: (g) => ({ ...valid(g, op), body: { client_secret: 'x' } }),
      },
      {
        name: 'client_secret missing',
        status: 422,
        request: (g) => ({ ...valid(g, op), body: {} }),
      },
    );
  }
  if (op === 'create_authorization')
    list.push(
      {
        name: 'client_id missing',
        status: 422,
        request: (g) => ({ ...valid(g, op), body: { note: 'x' } }),
      },
      {
        name: 'scopes not an array',
        status: 422,
        request: (g) => ({ ...valid(g, op), body: { scopes: 'repo' } }),
      },
    );
  if (op === 'update_authorization')
    list.push(
      {
        name: 'two scope keys',
        status: 422,
        request: (g) => ({ ...valid(g, op), body: { scopes: ['a'], remove_scopes: ['b'] } }),
      },
      {
        name: 'set scopes, note, fingerprint',
        status: 200,
        request: (g) => ({ ...valid(g, op), body: { scopes: null, note: 'n', fingerprint: 'p' } }),
      },
    );
  if (/^(get|delete|update)_(grant|authorization)$/.test(op))
    list.push({
      name: "another user's (monalisa asks for octocat's)",
      status: 404,
      request: (g) => ({ ...valid(g, op), auth: 'monalisa', otp: true }),
    });
  return list;
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

describe.each(Object.keys(versions))('GHES %s: Authorizations API', (version) => {
  const doc = versions[version];
  if (!doc) throw new Error(`no document for ${version}`);
  const contract = new ReleaseContract(version, doc);
  const emulator = (): GhesEmulator => createGhesEmulator({ version, now: () => FIXED_NOW });

  it('serves exactly the described operations', async () => {
    const served: AuthorizationOperation[] = [];
    for (const op of AUTHORIZATION_OPERATIONS) {
      const ghes = emulator();
      const res = await send(ghes, valid(ghes, op));
      if (res.status === SUCCESS[op]) served.push(op);
    }
    expect(served).toEqual(AUTHORIZATION_OPERATIONS.filter((op) => contract.has(op)));
  });

  it('every answer validates against the release schema', async () => {
    const results: Array<{ scenario: string; checked: Checked }> = [];
    for (const op of AUTHORIZATION_OPERATIONS.filter((o) => contract.has(o))) {
      for (const scenario of scenarios(op)) {
        const ghes = emulator();
        await scenario.setup?.(ghes);
        const res = await send(ghes, scenario.request(ghes));
        expect(res.status, `${op}: ${scenario.name}`).toBe(scenario.status);
        results.push({
          scenario: `${op}: ${scenario.name}`,
          checked: contract.check(op, res.status, await bodyOf(res)),
        });
      }
    }
    const failures = results.filter((r) => r.checked.errors.length > 0);
    expect(
      failures.map((f) => `${f.scenario} → ${JSON.stringify(f.checked.errors.slice(0, 3))}`),
    ).toEqual([]);
    for (const r of results)
      if (Number(r.checked.status) < 300)
        expect(r.checked.kind, r.scenario).not.toBe('undocumented');
    expect(results.length).toBeGreaterThan(60);
  });
});

describe('the Authorizations contract is not vacuous', () => {
  it('refuses a created authorization without its token or with a user-less app', async () => {
    const newest = Object.keys(versions).at(-1) ?? '';
    const contract = new ReleaseContract(newest, versions[newest] as never);
    const ghes = createGhesEmulator({ version: newest, now: () => FIXED_NOW });
    const body = (await bodyOf(await send(ghes, valid(ghes, 'create_authorization')))) as Record<
      string,
      unknown
    >;
    expect(contract.check('create_authorization', 201, body).errors).toEqual([]);
    const { token: _t, ...withoutToken } = body;
    expect(contract.check('create_authorization', 201, withoutToken).errors).not.toEqual([]);
    expect(
      contract.check('create_authorization', 201, { ...body, app: { name: 'x' } }).errors,
    ).not.toEqual([]);
  });
});
