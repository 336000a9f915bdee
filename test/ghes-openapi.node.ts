/**
 * GitHub's OpenAPI descriptions of GHES, per release, for the contract tests (Node only; read by
 * test/global-setup.ts). Two sources:
 * - npm: `@octokit/openapi` (MIT) under aliases, every release it was published for (2.18 – 2.22,
 *   3.4 – 3.19). Every clone has these.
 * - ../shared/ghes-openapi (see its README; never copied into the repo): 2.18 – 3.22, the only
 *   source of 3.0 – 3.3 and 3.20 – 3.22. Present for developers of this repository and CI.
 * Each npm description (10 – 60 MB) is cut down to the shape the shared file has: an OpenAPI
 * document with only the contract path items (the app-token API and the OAuth Authorizations API)
 * and the components they reference, so the workerd tests receive one small map whichever source
 * a release came from. `GHES_OPENAPI_JSON` names the shared file where `../shared` is not beside.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = unknown;
type JsonObject = Record<string, Json>;

const here = dirname(fileURLToPath(import.meta.url));
/** `GHES_OPENAPI_JSON` points elsewhere (a worktree whose `..` has no `shared/`). */
export const SHARED_OPENAPI =
  process.env['GHES_OPENAPI_JSON'] ??
  resolve(here, '../../shared/ghes-openapi/ghes-oauth-endpoints.json');

/**
 * The aliased devDependencies, oldest first; a release several carry is read from the newest.
 * GitHub revised its descriptions of a release after publishing them, and a package holds the
 * revision of its day, so these are the fewest versions holding the newest revision on npm of
 * every release (whether it lists the same app permissions as ../shared is what matters; checked
 * by emulator/contract.test.ts): 2.2.1 2.18 – 2.22, 10.0.0 3.4 – 3.5, 12.0.0 3.6 – 3.7,
 * 14.0.0 3.8 – 3.12, 19.1.0 3.13, 22.0.0 3.14 – 3.16, 23.x 3.17 – 3.19. The fewest that merely
 * cover every release (2.2.1, 10.0.0, 14.0.0, 18.2.0, 23.x) describe 3.6, 3.7 and 3.14 – 3.16
 * without permissions GitHub added to those descriptions later.
 */
export const OCTOKIT_PACKAGES: readonly string[] = [
  '@octokit/openapi-2',
  '@octokit/openapi-10',
  '@octokit/openapi-12',
  '@octokit/openapi-14',
  '@octokit/openapi-19',
  '@octokit/openapi-22',
  '@octokit/openapi',
];

/**
 * Releases whose only revision on npm lists other scoped-token app permissions than the one the
 * project follows (../shared, from which src/config/permissions.generated.ts is generated): from
 * npm their permission tables cannot be checked, everything else can. contract.test.ts checks
 * this list against ../shared wherever that is present, both ways.
 */
export const NPM_OLDER_REVISION: Readonly<Record<string, string>> = {
  '2.18': 'no app-permissions schema',
  '2.19': 'no app-permissions schema',
  '2.20': 'no app-permissions schema',
  '2.21': 'no app-permissions schema',
  '2.22': 'no app-permissions schema, and expires_at not required',
  '3.5': 'without organization_personal_access_tokens and _requests',
};

/** The path items ../shared/ghes-openapi/README.md lists: app tokens and the Authorizations API. */
export const CONTRACT_PATHS: readonly string[] = [
  '/applications/{client_id}/token',
  '/applications/{client_id}/grant',
  '/applications/{client_id}/token/scoped',
  '/applications/{client_id}/tokens/{access_token}',
  '/applications/{client_id}/grants/{access_token}',
  '/applications/grants',
  '/applications/grants/{grant_id}',
  '/authorizations',
  '/authorizations/clients/{client_id}',
  '/authorizations/clients/{client_id}/{fingerprint}',
  '/authorizations/{authorization_id}',
];

/**
 * `GET /user` (the gateway learns whose password it holds), kept apart from CONTRACT_PATHS: the
 * ../shared documents do not describe it, and must stay comparable with npm's extraction.
 */
export const USER_PATHS: readonly string[] = ['/user'];

export interface ContractSource {
  /** Release → self-contained OpenAPI document. */
  versions: Record<string, JsonObject>;
  /** Release → self-contained OpenAPI document of USER_PATHS, where the source describes them. */
  user: Record<string, JsonObject>;
  /** Release → where its document came from, e.g. `npm:@octokit/openapi@14.0.0:generated/ghes-3.12.json`. */
  from: Record<string, string>;
  /** Release → what its document lacks, for releases described by an older revision (npm only). */
  older: Record<string, string>;
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Octokit's own extension, not part of GitHub's description (the shared file drops it too). */
function stripOctokit(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripOctokit);
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'x-octokit')
      .map(([key, value]) => [key, stripOctokit(value)]),
  );
}

function localRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) localRefs(n, into);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) into.add(value);
      else localRefs(value, into);
    }
  }
}

/**
 * One release's full description → the contract paths plus every component they reference,
 * transitively, so its `$ref`s resolve inside the result. Throws on a dangling `$ref`: a
 * document the validator would half-resolve must not reach the tests.
 */
export function extractRelease(
  full: JsonObject,
  version: string,
  from: string,
  only: readonly string[] = CONTRACT_PATHS,
): JsonObject {
  const allPaths = full['paths'];
  const allComponents = full['components'];
  if (!isObject(allPaths) || !isObject(allComponents))
    throw new Error(`${from}: no paths or components`);
  const paths: JsonObject = {};
  for (const p of only) if (allPaths[p] !== undefined) paths[p] = allPaths[p];
  const components: Record<string, JsonObject> = {};
  const pending = new Set<string>();
  localRefs(paths, pending);
  for (const ref of pending) {
    const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
    const kind = match?.[1];
    const name = match?.[2];
    const group = kind === undefined ? undefined : allComponents[kind];
    const target = name === undefined || !isObject(group) ? undefined : group[name];
    if (kind === undefined || name === undefined || target === undefined)
      throw new Error(`${from}: $ref ${ref} does not resolve`);
    (components[kind] ??= {})[name] = target;
    localRefs(target, pending); // a Set iterates over what is added while iterating
  }
  const sorted = Object.fromEntries(
    Object.keys(components)
      .sort()
      .map((kind) => [
        kind,
        Object.fromEntries(
          Object.entries(components[kind] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)),
        ),
      ]),
  );
  return stripOctokit({
    openapi: full['openapi'],
    info: {
      title: `GHES ${version} OAuth-app token endpoints (subset of GitHub v3 REST API)`,
      version,
    },
    'x-source': { from },
    paths,
    components: sorted,
  }) as JsonObject;
}

/**
 * Every `ghes-X.Y.json` in the aliased `@octokit/openapi` packages, each release from the newest
 * package that carries it: later packages hold later revisions of GitHub's description of the
 * same release (3.14 gained four app permissions between 18.2.0 and 22.0.0). Packages are read
 * newest first and a release already taken is not parsed again (each file is 2 – 11 MB).
 */
export function loadNpm(packages: readonly string[] = OCTOKIT_PACKAGES): ContractSource {
  const require = createRequire(import.meta.url);
  const versions: Record<string, JsonObject> = {};
  const user: Record<string, JsonObject> = {};
  const from: Record<string, string> = {};
  for (const pkg of [...packages].reverse()) {
    const manifest = require.resolve(`${pkg}/package.json`);
    const { version: pkgVersion } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      version: string;
    };
    const dir = join(dirname(manifest), 'generated');
    for (const file of readdirSync(dir)) {
      const release = /^ghes-(\d+\.\d+)\.json$/.exec(file)?.[1];
      if (release === undefined || versions[release] !== undefined) continue;
      const source = `npm:@octokit/openapi@${pkgVersion}:generated/${file}`;
      const full = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JsonObject;
      versions[release] = extractRelease(full, release, source);
      user[release] = extractRelease(full, release, source, USER_PATHS);
      from[release] = source;
    }
  }
  const older = Object.fromEntries(
    Object.entries(NPM_OLDER_REVISION).filter(([release]) => versions[release] !== undefined),
  );
  return { versions, user, from, older };
}

/** ../shared/ghes-openapi, or null where this clone has no such neighbour. */
export function loadShared(path: string = SHARED_OPENAPI): ContractSource | null {
  if (!existsSync(path)) return null;
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { versions: Record<string, JsonObject> };
  const from = Object.fromEntries(Object.keys(doc.versions).map((v) => [v, `shared:${v}`]));
  // Its documents hold CONTRACT_PATHS only: no `GET /user` (USER_PATHS).
  return { versions: doc.versions, user: {}, from, older: {} };
}
