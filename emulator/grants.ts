/**
 * Grants as the Authorizations API shows them: one per user × app (the state's grant map), with
 * an id, the union of the scopes of its live tokens ("if an application has one token with
 * `repo` scope and another token with `user` scope, the grant will return ["repo", "user"]",
 * GitHub's "List your grants"). A grant deleted and made again gets a new id.
 */
import { isoSeconds, type RenderContext } from './render';
import { grantKey, type EmulatorState } from './state';

export interface GrantView {
  readonly id: number;
  readonly clientId: string;
  readonly userId: number;
  readonly createdAt: number;
}

/** The user's grants, oldest first. */
export function grantsOf(state: EmulatorState, userId: number): GrantView[] {
  const out: GrantView[] = [];
  for (const [key, createdAt] of state.grants) {
    const colon = key.lastIndexOf(':');
    const owner = Number(key.slice(colon + 1));
    const id = state.grantIds.get(key);
    if (owner === userId && id !== undefined)
      out.push({ id, clientId: key.slice(0, colon), userId: owner, createdAt });
  }
  return out;
}

export function applicationGrant(
  grant: GrantView,
  state: EmulatorState,
  ctx: RenderContext,
  now: number,
): Record<string, unknown> {
  const app = state.apps.get(grant.clientId);
  if (!app) throw new Error('grant of a removed app');
  const scopes = new Set<string>();
  let updatedAt = grant.createdAt;
  for (const record of state.tokens.values()) {
    if (grantKey(record.clientId, record.userId) !== grantKey(grant.clientId, grant.userId))
      continue;
    if (record.expiresAt !== null && record.expiresAt <= now) continue;
    for (const s of record.scopes) scopes.add(s);
    updatedAt = Math.max(updatedAt, record.updatedAt);
  }
  return {
    id: grant.id,
    url: `${ctx.origin}/api/v3/applications/grants/${grant.id}`,
    app: { client_id: app.clientId, name: app.name, url: app.url },
    created_at: isoSeconds(grant.createdAt),
    updated_at: isoSeconds(updatedAt),
    scopes: [...scopes],
  };
}
