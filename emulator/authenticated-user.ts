/**
 * `GET /user` under /api/v3 (GitHub's `users/get-authenticated`, described by every release
 * 2.18 – 3.22), authenticated as the user exactly as the Authorizations API is (user-auth.ts:
 * Basic `login:password`, `X-GitHub-OTP` for two-factor users, the same 401s). The answer is
 * GitHub's `private-user` (a user reading their own profile sees the private part): every member
 * its schema requires, from the account where the emulator has it and empty otherwise.
 *
 * Choices where GitHub says nothing: accounts have no history here, so `created_at` and
 * `updated_at` are one fixed instant; profile texts are null and counts 0. Token authentication
 * (`Authorization: token …`) is not emulated: the gateway asks `GET /user` with the password only.
 */
import type { Hono } from 'hono';
import type { EmulatorCore } from './core';
import { renderContext, type EmulatorEnv } from './pipeline';
import { isoSeconds, simpleUser } from './render';
import { json } from './responses';
import { userRoute } from './user-auth';
import { atLeast } from './versions';

/** When the emulated accounts were "created" (no account history is kept). */
export const ACCOUNT_CREATED_AT = Date.UTC(2020, 0, 1);

/**
 * `user_view_type` on `private-user`: described from 3.13 (GitHub's descriptions of 3.12 have it
 * on `simple-user` only); from then the answer's `oneOf` is told apart by it (`private`).
 */
function privateViewType(core: EmulatorCore): boolean {
  return atLeast(core.config.version, '3.13');
}

export function registerUserRoutes(app: Hono<EmulatorEnv>, core: EmulatorCore): void {
  app.get(
    '/api/v3/user',
    userRoute(
      core,
      'get_user',
      'users/users#get-the-authenticated-user',
      async ({ c, reply, user }) => {
        const { user_view_type: _public, ...simple } = simpleUser(user, renderContext(core, c));
        const created = isoSeconds(ACCOUNT_CREATED_AT);
        return json(reply, 200, {
          ...simple,
          ...(privateViewType(core) && { user_view_type: 'private' }),
          name: null,
          company: null,
          blog: null,
          location: null,
          email: null,
          hireable: null,
          bio: null,
          public_repos: 0,
          public_gists: 0,
          followers: 0,
          following: 0,
          created_at: created,
          updated_at: created,
          private_gists: 0,
          total_private_repos: 0,
          owned_private_repos: 0,
          disk_usage: 0,
          collaborators: 0,
          two_factor_authentication: (core.users.get(user.id)?.twoFactor ?? null) !== null,
        });
      },
    ),
  );
}
