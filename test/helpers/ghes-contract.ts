/**
 * The GHES OpenAPI contract the tests check against, from test/global-setup.ts: the
 * `@octokit/openapi` devDependencies on every clone, plus ../shared/ghes-openapi where present.
 * A release both describe is taken from ../shared: for every such release its revision of
 * GitHub's description is the same as npm's newest or later (npm's 2.18 – 2.22 and 3.5 predate
 * permissions GitHub added to them), and src/config/permissions.generated.ts is generated from it.
 * emulator/contract.test.ts checks how the two agree.
 */
import { inject } from 'vitest';
import type { GhesContractSource } from '../provided';
import { KNOWN_VERSIONS, parseVersion } from '../../emulator/versions';

export interface GhesContract {
  /** Release → its document, oldest release first. */
  versions: Record<string, Record<string, unknown>>;
  /**
   * Release → a document of `GET /user` alone, oldest first: npm's (../shared does not describe
   * it), so 3.0 – 3.3 and 3.20 – 3.22 have none.
   */
  user: Record<string, Record<string, unknown>>;
  /** Release → where its document came from. */
  from: Record<string, string>;
  /** Releases the emulator knows that no available source describes. */
  unchecked: string[];
  /** Release → what its document lacks, where only an older revision is available. */
  older: Record<string, string>;
  npm: GhesContractSource;
  shared: GhesContractSource | null;
  sharedPath: string;
}

function byRelease(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  if (!x || !y) return a < b ? -1 : 1;
  return x.major - y.major || x.minor - y.minor;
}

export function ghesContract(): GhesContract {
  const { npm, shared, sharedPath } = inject('ghesContract');
  const releases = [
    ...new Set([...Object.keys(npm.versions), ...Object.keys(shared?.versions ?? {})]),
  ];
  const versions: GhesContract['versions'] = {};
  const from: GhesContract['from'] = {};
  for (const release of releases.sort(byRelease)) {
    const source = shared?.versions[release] !== undefined ? shared : npm;
    const doc = source.versions[release];
    if (doc === undefined) continue;
    versions[release] = doc;
    from[release] = source.from[release] ?? '?';
  }
  const unchecked = KNOWN_VERSIONS.filter((v) => versions[v] === undefined);
  const older = Object.fromEntries(
    Object.entries(npm.older).filter(([v]) => from[v] === npm.from[v]),
  );
  const user = Object.fromEntries(
    [...new Set([...Object.keys(npm.user), ...Object.keys(shared?.user ?? {})])]
      .sort(byRelease)
      .flatMap((v) => {
        const doc = shared?.user[v] ?? npm.user[v];
        return doc === undefined ? [] : [[v, doc] as const];
      }),
  );
  return { versions, user, from, unchecked, older, npm, shared, sharedPath };
}
