/**
 * Runs in Node before the workerd test workers start. Tests inside workerd cannot read the file
 * system, so the GHES OpenAPI contract (../shared/ghes-openapi, kept outside the repo on purpose)
 * is read here and handed over with `provide`. When the folder is absent the contract tests say
 * so plainly instead of passing silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED_OPENAPI = resolve(here, '../../shared/ghes-openapi/ghes-oauth-endpoints.json');

export default function setup(project: TestProject): void {
  const present = existsSync(SHARED_OPENAPI);
  project.provide('ghesOpenapiPath', SHARED_OPENAPI);
  project.provide('ghesOpenapi', present ? readFileSync(SHARED_OPENAPI, 'utf8') : null);
}
