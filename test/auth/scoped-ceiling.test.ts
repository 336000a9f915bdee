/**
 * Scoped-token ceilings: what a caller may ask GHES to mint, checked before any GHES call.
 */
import { describe, expect, it } from 'vitest';
import {
  checkScopedCeiling,
  scopedCeilingViolations,
  type ScopedTokenRequest,
} from '../../src/auth/policy';
import type { CallerPolicyEntry, ScopedCeiling } from '../../src/config/types';
import { problemShape, toProblem } from '../../src/lib/errors';
import { thrown } from '../helpers/errors';

function entry(scoped?: ScopedCeiling): CallerPolicyEntry {
  return {
    apps: ['octo-app'],
    operations: ['scoped'],
    ...(scoped !== undefined && { scoped }),
  };
}

const FULL: ScopedCeiling = {
  permissions: { contents: 'read', issues: 'write', organization_projects: 'admin' },
  targets: ['Octo-Org'],
  target_ids: [42],
  repositories: ['Infra', 'docs'],
};

describe('checkScopedCeiling', () => {
  it('allows anything when the caller has no ceiling', () => {
    expect(() =>
      checkScopedCeiling(entry(), {
        target: 'anyone',
        permissions: { administration: 'write' },
      }),
    ).not.toThrow();
    expect(() => checkScopedCeiling(entry(), { target_id: 7 })).not.toThrow();
  });

  it('allows a request within every part of the ceiling', () => {
    const ok: ScopedTokenRequest[] = [
      { target: 'octo-org', repositories: ['infra'], permissions: { contents: 'read' } },
      {
        target_id: 42,
        repositories: ['docs', 'INFRA'],
        permissions: { issues: 'read', organization_projects: 'admin' },
      },
      { target: 'OCTO-ORG', repositories: ['Infra'], permissions: { issues: 'write' } },
    ];
    for (const request of ok) {
      expect(scopedCeilingViolations(entry(FULL), request)).toEqual([]);
      expect(() => checkScopedCeiling(entry(FULL), request)).not.toThrow();
    }
  });

  it.each<[string, ScopedCeiling, ScopedTokenRequest, string]>([
    [
      'a level above the ceiling (read < write)',
      FULL,
      { target: 'octo-org', repositories: ['infra'], permissions: { contents: 'write' } },
      'body.permissions.contents "write" is above this caller\'s ceiling "read"',
    ],
    [
      'a level above the ceiling (write < admin)',
      FULL,
      { target: 'octo-org', repositories: ['infra'], permissions: { issues: 'admin' } },
      'body.permissions.issues "admin" is above this caller\'s ceiling "write"',
    ],
    [
      'an unknown level',
      FULL,
      { target: 'octo-org', repositories: ['infra'], permissions: { contents: 'none' } },
      'body.permissions.contents "none" is above this caller\'s ceiling "read"',
    ],
    [
      'a permission the ceiling does not list',
      FULL,
      { target: 'octo-org', repositories: ['infra'], permissions: { administration: 'read' } },
      'body.permissions.administration is not a permission this caller may request',
    ],
    [
      'no permissions while they are capped (GHES would grant all)',
      FULL,
      { target: 'octo-org', repositories: ['infra'] },
      "body.permissions must be listed: without them GHES grants every permission of the installation, above this caller's ceiling",
    ],
    [
      'an empty permissions object while they are capped',
      FULL,
      { target: 'octo-org', repositories: ['infra'], permissions: {} },
      "body.permissions must be listed: without them GHES grants every permission of the installation, above this caller's ceiling",
    ],
    [
      'a target not listed',
      FULL,
      { target: 'evil-org', repositories: ['infra'], permissions: { contents: 'read' } },
      'body.target "evil-org" is not a target this caller may scope tokens to',
    ],
    [
      'a target id not listed',
      FULL,
      { target_id: 43, repositories: ['infra'], permissions: { contents: 'read' } },
      'body.target_id 43 is not a target id this caller may scope tokens to',
    ],
    [
      'a target id when only logins are listed',
      { targets: ['octo-org'] },
      { target_id: 42 },
      'body.target_id this caller may name its target only by login (target)',
    ],
    [
      'a login when only ids are listed',
      { target_ids: [42] },
      { target: 'octo-org' },
      'body.target this caller may name its target only by target_id',
    ],
    [
      'no target at all under a target ceiling',
      { targets: ['octo-org'] },
      {},
      "body.target is required by this caller's ceiling",
    ],
    [
      'a repository not listed',
      FULL,
      { target: 'octo-org', repositories: ['infra', 'secrets'], permissions: { contents: 'read' } },
      'body.repositories "secrets" is not a repository this caller may scope tokens to',
    ],
    [
      'repository ids under a repository-name ceiling',
      FULL,
      { target: 'octo-org', repository_ids: [1], permissions: { contents: 'read' } },
      'body.repository_ids this caller must name repositories by name (repositories): ids cannot be checked against its ceiling',
    ],
    [
      'no repositories under a repository ceiling (GHES would scope to all)',
      FULL,
      { target: 'octo-org', permissions: { contents: 'read' } },
      "body.repositories must name at least one repository: this caller's tokens are limited to some",
    ],
    [
      'an empty repository list under a repository ceiling',
      FULL,
      { target: 'octo-org', repositories: [], permissions: { contents: 'read' } },
      "body.repositories must name at least one repository: this caller's tokens are limited to some",
    ],
    [
      'no repositories when they are required',
      { require_repositories: true },
      { target: 'octo-org' },
      'body.repositories must name at least one repository (repositories or repository_ids)',
    ],
    [
      'an empty id list when repositories are required',
      { require_repositories: true },
      { target: 'octo-org', repository_ids: [] },
      'body.repositories must name at least one repository (repositories or repository_ids)',
    ],
  ])('refuses %s with 403', (_name, ceiling, request, detail) => {
    const e = thrown(() => checkScopedCeiling(entry(ceiling), request));
    expect(e.code).toBe('forbidden');
    expect(problemShape(e.code).status).toBe(403);
    expect(e.detail).toBe(detail);
    expect(e.reason).toMatch(/^scoped-token request above the caller ceiling: body\./);
  });

  it('lists every violation in the errors extension, the first in detail', () => {
    const e = thrown(() =>
      checkScopedCeiling(entry(FULL), {
        target: 'evil-org',
        repositories: ['secrets'],
        permissions: { contents: 'admin', administration: 'write' },
      }),
    );
    const problem = toProblem(e);
    expect(problem.detail).toBe(
      'body.permissions.contents "admin" is above this caller\'s ceiling "read"',
    );
    expect(problem['errors']).toEqual([
      { field: 'body.permissions.contents', message: expect.stringContaining('"admin"') },
      { field: 'body.permissions.administration', message: expect.any(String) },
      { field: 'body.target', message: expect.stringContaining('"evil-org"') },
      { field: 'body.repositories', message: expect.stringContaining('"secrets"') },
    ]);
    expect(e.reason).toBe(
      'scoped-token request above the caller ceiling: body.permissions.contents, body.permissions.administration, body.target, body.repositories',
    );
  });

  it('accepts repository ids when repositories are only required, not listed', () => {
    expect(() =>
      checkScopedCeiling(entry({ require_repositories: true }), {
        target: 'x',
        repository_ids: [9],
      }),
    ).not.toThrow();
  });

  it('caps only what the ceiling names', () => {
    // Targets and repositories capped; permissions free (none requested is fine then).
    const ceiling: ScopedCeiling = { targets: ['octo-org'], repositories: ['infra'] };
    expect(() =>
      checkScopedCeiling(entry(ceiling), { target: 'octo-org', repositories: ['infra'] }),
    ).not.toThrow();
    expect(() =>
      checkScopedCeiling(entry(ceiling), {
        target: 'octo-org',
        repositories: ['infra'],
        permissions: { administration: 'write' },
      }),
    ).not.toThrow();
  });

  it('does not find Object.prototype members as permissions', () => {
    const e = thrown(() =>
      checkScopedCeiling(entry({ permissions: { contents: 'read' } }), {
        permissions: { constructor: 'read', __proto__: 'read' } as Record<string, string>,
      }),
    );
    expect(e.detail).toBe(
      'body.permissions.constructor is not a permission this caller may request',
    );
  });

  it('cuts long caller-supplied values short in the detail', () => {
    const e = thrown(() =>
      checkScopedCeiling(entry({ targets: ['octo-org'] }), { target: 'x-'.repeat(150) }),
    );
    expect(e.detail?.length).toBeLessThan(200);
    expect(e.detail).toContain('…');
  });

  it('withholds a credential-shaped value instead of quoting it', () => {
    const token = 'e72e16c7e42f292c6912e7710c838347ae178b4a';
    const e = thrown(() => checkScopedCeiling(entry({ targets: ['octo-org'] }), { target: token }));
    expect(e.detail).toContain('(withheld)');
    expect(e.detail).not.toContain(token);
  });
});
