/**
 * Runs in Node before the workerd test workers start. Tests inside workerd cannot read the file
 * system, so GitHub's GHES OpenAPI descriptions are read here (test/ghes-openapi.node.ts: the
 * `@octokit/openapi` devDependencies, plus ../shared/ghes-openapi where present) and handed over
 * with `provide`. Without ../shared, what goes unchecked is said in one line. The import graph
 * (test/import-graph.node.ts) is read here for the same reason.
 */
import type { TestProject } from 'vitest/node';
import { KNOWN_VERSIONS } from '../emulator/versions';
import { loadNpm, loadShared, SHARED_OPENAPI } from './ghes-openapi.node';
import { importGraph } from './import-graph.node';

export default function setup(project: TestProject): void {
  const npm = loadNpm();
  const shared = loadShared(SHARED_OPENAPI);
  project.provide('ghesContract', { npm, shared, sharedPath: SHARED_OPENAPI });
  project.provide('importGraph', importGraph());
  const unchecked = KNOWN_VERSIONS.filter(
    (v) => npm.versions[v] === undefined && shared?.versions[v] === undefined,
  );
  const partly = shared === null ? Object.keys(npm.older) : [];
  const parts = [
    ...(unchecked.length > 0 ? [`not checked: ${unchecked.join(', ')}`] : []),
    ...(partly.length > 0
      ? [
          `only partly (npm has an older revision; app permissions not compared): ${partly.join(', ')}`,
        ]
      : []),
  ];
  if (parts.length > 0)
    console.log(
      `GHES contract (${SHARED_OPENAPI} ${shared === null ? 'absent' : 'incomplete'}): ${parts.join('; ')}`,
    );
}
