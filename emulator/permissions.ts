/**
 * The emulator's own table of scoped-token permissions (`app-permissions` in GitHub's OpenAPI
 * description of each GHES release), written as a change log so each release's set is read off
 * by replaying the changes up to it. It is written independently of the gateway's generated
 * table on purpose, and contract.test.ts proves it equal to the description of every version.
 */
import { atLeast, type GhesVersion } from './versions';

type Levels = readonly string[];
const RW: Levels = ['read', 'write'];
const RWA: Levels = ['read', 'write', 'admin'];
const R: Levels = ['read'];
const W: Levels = ['write'];

interface Change {
  readonly since: string;
  readonly set?: Readonly<Record<string, Levels>>;
  readonly remove?: readonly string[];
}

const CHANGES: readonly Change[] = [
  {
    since: '2.18',
    set: {
      actions: RW,
      administration: RW,
      checks: RW,
      content_references: RW,
      contents: RW,
      deployments: RW,
      environments: RW,
      issues: RW,
      metadata: RW,
      packages: RW,
      pages: RW,
      pull_requests: RW,
      repository_hooks: RW,
      repository_projects: RWA,
      secret_scanning_alerts: RW,
      secrets: RW,
      security_events: RW,
      single_file: RW,
      statuses: RW,
      vulnerability_alerts: R,
      workflows: W,
      members: RW,
      organization_administration: RW,
      organization_hooks: RW,
      organization_plan: R,
      organization_projects: RWA,
      organization_packages: RW,
      organization_secrets: RW,
      organization_self_hosted_runners: RW,
      organization_user_blocking: RW,
      team_discussions: RW,
    },
  },
  { since: '3.0', set: { vulnerability_alerts: RW } },
  { since: '3.4', remove: ['content_references'] },
  {
    since: '3.5',
    set: {
      organization_personal_access_tokens: RW,
      organization_personal_access_token_requests: RW,
    },
  },
  {
    since: '3.8',
    set: {
      codespaces: RW,
      dependabot_secrets: RW,
      organization_copilot_seat_management: W,
      organization_announcement_banners: RW,
      organization_events: R,
      email_addresses: RW,
      followers: RW,
      git_ssh_keys: RW,
      gpg_keys: RW,
      interaction_limits: RW,
      profile: W,
      starring: RW,
    },
  },
  { since: '3.9', set: { organization_custom_roles: RW } },
  { since: '3.12', set: { repository_custom_properties: RW, organization_custom_properties: RWA } },
  { since: '3.13', set: { organization_custom_org_roles: RW } },
  {
    since: '3.14',
    set: { artifact_metadata: RW, attestations: RW, discussions: RW, merge_queues: RW },
  },
  { since: '3.15', set: { enterprise_administration: RW } },
  { since: '3.16', set: { enterprise_custom_properties: RW } },
  {
    since: '3.17',
    set: {
      code_quality: RW,
      organization_copilot_agent_settings: RW,
      organization_copilot_seat_management: RW,
    },
    remove: ['team_discussions'],
  },
  {
    since: '3.19',
    set: {
      enterprise_organization_installations: RW,
      enterprise_organization_installation_repositories: RW,
    },
  },
  {
    since: '3.20',
    set: {
      custom_properties_for_organizations: RW,
      enterprise_custom_properties_for_organizations: RWA,
    },
  },
];

const cache = new Map<string, ReadonlyMap<string, Levels>>();

/** Permission name → accepted levels for scoped tokens on GHES `v`. */
export function appPermissions(v: GhesVersion): ReadonlyMap<string, Levels> {
  const hit = cache.get(v.name);
  if (hit) return hit;
  const table = new Map<string, Levels>();
  for (const change of CHANGES) {
    if (!atLeast(v, change.since)) break;
    for (const [name, levels] of Object.entries(change.set ?? {})) table.set(name, levels);
    for (const name of change.remove ?? []) table.delete(name);
  }
  cache.set(v.name, table);
  return table;
}

const RANK: Readonly<Record<string, number>> = { read: 1, write: 2, admin: 3 };

/** True when `requested` grants no more than `granted` (read < write < admin). */
export function levelWithin(requested: string, granted: string | undefined): boolean {
  if (granted === undefined) return false;
  return (RANK[requested] ?? Infinity) <= (RANK[granted] ?? 0);
}
