/**
 * GitHub's OAuth scope hierarchy: a token granted a parent scope also has its children (GitHub
 * docs, "Scopes for OAuth apps": `repo` includes `public_repo`, `admin:org` includes
 * `write:org`, which includes `read:org`, …). GHES reports the scopes as granted, so a required
 * `read:org` must be met by a granted `admin:org`, as GitHub's own API would accept it. Pure.
 */

/** Parent → the scopes it directly includes. */
const CHILDREN: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    repo: ['repo:status', 'repo_deployment', 'public_repo', 'repo:invite', 'security_events'],
    'admin:repo_hook': ['write:repo_hook'],
    'write:repo_hook': ['read:repo_hook'],
    'admin:org': ['write:org'],
    'write:org': ['read:org'],
    'admin:public_key': ['write:public_key'],
    'write:public_key': ['read:public_key'],
    user: ['read:user', 'user:email', 'user:follow'],
    project: ['read:project'],
    'write:packages': ['read:packages'],
    'admin:gpg_key': ['write:gpg_key'],
    'write:gpg_key': ['read:gpg_key'],
    'admin:ssh_signing_key': ['write:ssh_signing_key'],
    'write:ssh_signing_key': ['read:ssh_signing_key'],
    'write:discussion': ['read:discussion'],
    'admin:enterprise': [
      'manage_runners:enterprise',
      'manage_billing:enterprise',
      'read:enterprise',
    ],
    'manage_billing:enterprise': ['read:enterprise'],
    audit_log: ['read:audit_log'],
  }),
);

/** Every scope `granted` amounts to, its children included. */
export function effectiveScopes(granted: readonly string[]): Set<string> {
  const out = new Set<string>();
  const pending = [...granted];
  for (let scope = pending.pop(); scope !== undefined; scope = pending.pop()) {
    if (out.has(scope)) continue;
    out.add(scope);
    pending.push(...(CHILDREN.get(scope) ?? []));
  }
  return out;
}

/** The required scopes `granted` does not cover, in the order they were required. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  if (required.length === 0) return [];
  const have = effectiveScopes(granted);
  return required.filter((s) => !have.has(s));
}
