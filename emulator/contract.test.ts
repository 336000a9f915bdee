/**
 * Contract tests: for every GHES release GitHub describes (2.18 – 3.22; test/helpers/ghes-contract.ts:
 * `@octokit/openapi` on npm, plus ../shared/ghes-openapi where present), the emulator serves
 * exactly the described endpoints, and every answer it gives (success and error, faults included)
 * validates against that release's own schema. Statuses the description does not list for an
 * operation (GHES's 404 for an invalid token on reset/delete/grant, 400 for unparsable JSON, 401
 * when configured, rate limits, 500) are checked against GitHub's `basic-error`.
 */
import { describe, expect, it } from 'vitest';
import { ghesContract } from '../test/helpers/ghes-contract';
import { parseContract, ReleaseContract, type Checked } from './contract-schema';
import {
  createGhesEmulator,
  KNOWN_VERSIONS,
  TOKEN_OPERATIONS,
  type GhesEmulator,
  type TokenOperation,
} from './index';
import { appPermissions } from './permissions';
import { call, FIXED_NOW, type CallOptions } from './test-client';
import { parseVersion } from './versions';

const sources = ghesContract();
const versions = parseContract(sources.versions);
/** 3.22 with ../shared, 3.19 without. */
const NEWEST = Object.keys(versions).at(-1) ?? '';

/** What the `@octokit/openapi` devDependencies carry: every release GitHub published there. */
const ON_NPM = KNOWN_VERSIONS.filter((v) => !/^3\.([0-3]|2[0-9])$/.test(v));

describe('the contract covers every release', () => {
  it('npm carries 2.18 – 2.22 and 3.4 – 3.19, so every clone checks them', () => {
    expect(Object.keys(sources.npm.versions).sort(byRelease)).toEqual(ON_NPM);
    expect(ON_NPM).toHaveLength(21);
  });

  it('with ../shared every release is checked in full; without, it says what is not', () => {
    expect(Object.keys(versions)).toEqual(
      KNOWN_VERSIONS.filter((v) => !sources.unchecked.includes(v)),
    );
    if (sources.shared !== null) {
      expect(sources.unchecked).toEqual([]);
      expect(sources.older).toEqual({});
    } else {
      expect(sources.unchecked).toEqual(['3.0', '3.1', '3.2', '3.3', '3.20', '3.21', '3.22']);
      expect(Object.keys(sources.older)).toEqual(['2.18', '2.19', '2.20', '2.21', '2.22', '3.5']);
    }
  });
});

if (sources.shared !== null) {
  const shared = sources.shared;
  const npm = sources.npm;
  describe('npm’s descriptions against ../shared', () => {
    // Where ../shared took a release from the very npm file this clone has, the two extractions
    // (test/ghes-openapi.node.ts and the one that built ../shared) must be the same document.
    const sameFile = Object.keys(npm.versions).filter(
      (v) => xSource(shared.versions[v]) === npm.from[v],
    );
    it('share the source file of several releases', () => {
      expect(sameFile.length).toBeGreaterThanOrEqual(5);
    });
    it.each(sameFile)('GHES %s: the extraction gives the same document', (v) => {
      expect(withoutProvenance(npm.versions[v])).toEqual(withoutProvenance(shared.versions[v]));
    });
    // NPM_OLDER_REVISION (test/ghes-openapi.node.ts) names exactly the releases whose npm
    // revision lists other app permissions: its permission tests are dropped for no other.
    it.each(Object.keys(npm.versions))(
      'GHES %s: npm lists the same app permissions unless marked older',
      (v) => {
        const same =
          JSON.stringify(permissionsOf(npm.versions[v])) ===
          JSON.stringify(permissionsOf(shared.versions[v]));
        expect(same, npm.older[v] ?? 'not marked older').toBe(npm.older[v] === undefined);
      },
    );
  });
}

describe('the validator is not vacuous', () => {
  async function checkedBody(version: string): Promise<Record<string, unknown>> {
    const ghes = emulator(version);
    const res = await call(ghes, 'check', 'demo-oauth', { token: tokenFor(ghes, 'check') });
    return (await res.json()) as Record<string, unknown>;
  }
  function contractOf(version: string): ReleaseContract {
    const doc = versions[version];
    if (!doc) throw new Error(`no document for ${version}`);
    return new ReleaseContract(version, doc);
  }

  it('accepts null where the newest release says nullable and refuses a missing required member', async () => {
    const body = await checkedBody(NEWEST);
    const contract = contractOf(NEWEST);
    expect(body['note']).toBeNull();
    expect(contract.check('check', 200, body).errors).toEqual([]);
    const { hashed_token: _dropped, ...withoutHash } = body;
    expect(contract.check('check', 200, withoutHash).errors).not.toEqual([]);
    expect(contract.check('check', 200, { ...body, expires_at: 'tomorrow' }).errors).not.toEqual(
      [],
    );
    expect(contract.check('check', 200, { ...body, user: { login: 'x' } }).errors).not.toEqual([]);
  });

  // A fact of GitHub's later revision of 2.21 and 2.22 (npm's is older): checked where present.
  const current = (v: string): boolean => versions[v] !== undefined && !(v in sources.older);
  if (current('2.21') && current('2.22'))
    it('2.22 – 3.1 require expires_at; 2.21 does not', async () => {
      const body = await checkedBody('2.22');
      const { expires_at: _dropped, ...withoutExpiry } = body;
      expect(contractOf('2.22').check('check', 200, withoutExpiry).errors).not.toEqual([]);
      expect(contractOf('2.21').check('check', 200, withoutExpiry).errors).toEqual([]);
    });

  it('checks undocumented error statuses against basic-error', () => {
    const checked = contractOf(NEWEST).check('reset', 404, { message: 42 });
    expect(checked.kind).toBe('undocumented');
    expect(checked.errors).not.toEqual([]);
  });
});

describe.each(Object.keys(versions))('GHES %s', (version) => {
  const doc = versions[version];
  if (!doc) throw new Error(`no document for ${version}`);
  const contract = new ReleaseContract(version, doc);

  it('serves exactly the operations the release describes', async () => {
    const served: TokenOperation[] = [];
    for (const op of TOKEN_OPERATIONS) {
      const ghes = emulator(version);
      const res = await call(ghes, op, appFor(op), {
        token: tokenFor(ghes, op),
        extra: { target: 'octocat' },
      });
      if (res.status !== 404) served.push(op);
    }
    expect(served).toEqual(TOKEN_OPERATIONS.filter((op) => contract.has(op)));
  });

  // Not where only an older revision is at hand (named in global setup's line).
  if (!(version in sources.older))
    it('accepts exactly the scoped-token permissions and levels of the release', () => {
      const described = contract.componentSchema('app-permissions')['properties'] as Record<
        string,
        { enum: string[] }
      >;
      const expected = Object.fromEntries(
        Object.entries(described).map(([name, s]) => [name, [...s.enum]]),
      );
      const v = parseVersion(version);
      if (!v) throw new Error(`bad version ${version}`);
      const actual = Object.fromEntries(
        [...appPermissions(v)].map(([name, levels]) => [name, [...levels]]),
      );
      expect(actual).toEqual(expected);
    });

  it('every answer of every described operation validates against the release schema', async () => {
    const results: Array<{ scenario: string; checked: Checked }> = [];
    for (const op of TOKEN_OPERATIONS.filter((o) => contract.has(o))) {
      for (const scenario of scenarios(op)) {
        const ghes = emulator(version);
        const res = await scenario.run(ghes);
        expect(res.status, `${op}: ${scenario.name}`).toBe(scenario.status);
        const text = await res.text();
        const body: unknown = text === '' ? undefined : JSON.parse(text);
        results.push({
          scenario: `${op}: ${scenario.name}`,
          checked: contract.check(op, res.status, body),
        });
      }
    }
    const failures = results.filter((r) => r.checked.errors.length > 0);
    expect(
      failures.map((f) => `${f.scenario} → ${JSON.stringify(f.checked.errors.slice(0, 3))}`),
    ).toEqual([]);
    // Success answers are always described; only error statuses may fall back to basic-error.
    for (const r of results) {
      if (Number(r.checked.status) < 300)
        expect(r.checked.kind, r.scenario).not.toBe('undocumented');
    }
    expect(results.length).toBeGreaterThan(10);
  });
});

function emulator(version: string): GhesEmulator {
  return createGhesEmulator({ version, now: () => FIXED_NOW });
}

function appFor(op: TokenOperation): string {
  return op === 'scoped' ? 'demo-github-app' : 'demo-oauth';
}

function tokenFor(
  ghes: GhesEmulator,
  op: TokenOperation,
  which: 'oauth' | 'app' = op === 'scoped' ? 'app' : 'oauth',
): string {
  const t = ghes.seed?.tokens;
  if (!t) throw new Error('demo seed missing');
  return which === 'app' ? t.octocatGithubApp : t.octocatOauth;
}

interface Scenario {
  name: string;
  status: number;
  run(ghes: GhesEmulator): Promise<Response>;
}

const SUCCESS: Readonly<Record<TokenOperation, number>> = {
  check: 200,
  reset: 200,
  delete: 204,
  grant: 204,
  scoped: 200,
  legacy_check: 200,
  legacy_reset: 200,
  legacy_delete: 204,
  legacy_grant: 204,
};

/** Every way an operation can answer: success, invalid token, credentials, bodies, faults. */
function scenarios(op: TokenOperation): Scenario[] {
  const plain = (
    name: string,
    status: number,
    options: (ghes: GhesEmulator) => CallOptions,
    setup?: (g: GhesEmulator) => void,
  ): Scenario => ({
    name,
    status,
    run: (ghes) => {
      setup?.(ghes);
      return call(ghes, op, appFor(op), options(ghes));
    },
  });
  const list: Scenario[] = [];
  if (op === 'scoped') {
    list.push(
      plain('scoped to a user with repositories and permissions', 200, (g) => ({
        token: tokenFor(g, op),
        extra: {
          target: 'octocat',
          repositories: ['hello-world'],
          permissions: { contents: 'read', issues: 'write' },
        },
      })),
      plain('scoped to an organisation by id', 200, (g) => ({
        token: tokenFor(g, op),
        extra: { target_id: 3, repository_ids: [4200001] },
      })),
      {
        name: 'scoped with every permission the release knows, at its highest level',
        status: 200,
        run: (ghes) => {
          const v = parseVersion(ghes.config().version);
          if (!v) throw new Error('bad version');
          const all = Object.fromEntries(
            [...appPermissions(v)].map(([name, levels]) => [
              name,
              levels[levels.length - 1] ?? 'read',
            ]),
          );
          ghes.installApp({ app: 'demo-github-app', account: 'monalisa', permissions: all });
          return call(ghes, op, 'demo-github-app', {
            token: ghes.seed?.tokens.monalisaGithubApp ?? '',
            extra: { target: 'monalisa', permissions: all },
          });
        },
      },
      plain('neither target nor target_id', 422, (g) => ({ token: tokenFor(g, op), extra: {} })),
      plain('repositories and repository_ids', 422, (g) => ({
        token: tokenFor(g, op),
        extra: { target: 'octocat', repositories: ['hello-world'], repository_ids: [1296269] },
      })),
      plain('unknown permission', 422, (g) => ({
        token: tokenFor(g, op),
        extra: { target: 'octocat', permissions: { teleport: 'read' } },
      })),
      plain('invalid level', 422, (g) => ({
        token: tokenFor(g, op),
        extra: { target: 'octocat', permissions: { issues: 'admin' } },
      })),
      plain('permission beyond the installation', 422, (g) => ({
        token: tokenFor(g, op),
        extra: { target: 'octocat', permissions: { administration: 'write' } },
      })),
      plain('target without installation', 422, (g) => ({
        token: g.seed?.tokens.monalisaGithubApp ?? '',
        extra: { target: 'monalisa' },
      })),
      {
        name: 'OAuth app',
        status: 404,
        run: (ghes) =>
          call(ghes, op, 'demo-oauth', {
            token: tokenFor(ghes, op, 'oauth'),
            extra: { target: 'octocat' },
          }),
      },
    );
  } else {
    list.push(plain('OAuth-app token', SUCCESS[op], (g) => ({ token: tokenFor(g, op) })));
    list.push({
      name: 'expiring GitHub-App token',
      status: SUCCESS[op],
      run: (ghes) => call(ghes, op, 'demo-github-app', { token: tokenFor(ghes, op, 'app') }),
    });
    if (op === 'check' || op === 'legacy_check') {
      list.push({
        name: 'scoped token (installation present) where the release has scoping',
        status: SUCCESS[op],
        run: async (ghes) => {
          let token = tokenFor(ghes, op, 'app');
          if (!ghes.config().version.startsWith('2.')) {
            const res = await call(ghes, 'scoped', 'demo-github-app', {
              token,
              extra: { target: 'octocat', permissions: { issues: 'read' } },
            });
            token = ((await res.json()) as { token: string }).token;
          }
          return call(ghes, op, 'demo-github-app', { token });
        },
      });
    }
  }
  const extra = op === 'scoped' ? { target: 'octocat' } : undefined;
  list.push(
    plain('unknown token', 404, () => ({
      token: 'gho_0000000000000000000000000000000000AA',
      ...(extra && { extra }),
    })),
    plain('wrong client secret (default 404)', 404, (g) => ({
      token: tokenFor(g, op),
      authorization: 'Basic Zm9vOmJhcg==',
    })),
    plain(
      'no credentials, 401 configured',
      401,
      (g) => ({ token: tokenFor(g, op), authorization: null, ...(extra && { extra }) }),
      (g) => void g.configure({ bad_credentials_status: 401 }),
    ),
    plain(
      'wrong credentials, 401 configured',
      401,
      (g) => ({
        token: tokenFor(g, op),
        authorization: 'Basic Zm9vOmJhcg==',
        ...(extra && { extra }),
      }),
      (g) => void g.configure({ bad_credentials_status: 401 }),
    ),
    plain(
      'secondary rate limit',
      403,
      (g) => ({ token: tokenFor(g, op) }),
      (g) => void g.addFault({ status: 403, secondary_rate_limit: true, retry_after: 1 }),
    ),
    plain(
      'primary rate limit',
      429,
      (g) => ({ token: tokenFor(g, op) }),
      (g) => void g.addFault({ status: 429, retry_after: 2 }),
    ),
    plain(
      'server error',
      500,
      (g) => ({ token: tokenFor(g, op) }),
      (g) => void g.addFault({ status: 500 }),
    ),
  );
  if (!op.startsWith('legacy_')) {
    list.push(
      plain('missing access_token', 422, () => ({ body: {} })),
      plain('access_token of the wrong type', 422, () => ({ body: { access_token: 7 } })),
      plain('unparsable JSON', 400, () => ({ body: '{' })),
    );
  }
  return list;
}

function byRelease(a: string, b: string): number {
  return KNOWN_VERSIONS.indexOf(a) - KNOWN_VERSIONS.indexOf(b);
}

function xSource(doc: Record<string, unknown> | undefined): unknown {
  const source = doc?.['x-source'];
  return typeof source === 'object' && source !== null
    ? (source as { from?: unknown }).from
    : undefined;
}

/** A document without `info` and `x-source`, which say where it came from, not what it says. */
function withoutProvenance(doc: Record<string, unknown> | undefined): Record<string, unknown> {
  const { info: _info, 'x-source': _source, ...rest } = doc ?? {};
  return rest;
}

/** `app-permissions` as name → levels, or null where the document has no such schema. */
function permissionsOf(doc: Record<string, unknown> | undefined): Record<string, unknown> | null {
  const schemas = (doc?.['components'] as { schemas?: Record<string, unknown> } | undefined)
    ?.schemas;
  const schema = schemas?.['app-permissions'] as
    { properties?: Record<string, { enum?: unknown }> } | undefined;
  if (schema?.properties === undefined) return null;
  return Object.fromEntries(
    Object.entries(schema.properties)
      .map(([name, p]) => [name, p.enum] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
