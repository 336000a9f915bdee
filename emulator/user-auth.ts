/**
 * User authentication of the Authorizations API: HTTP Basic with the user's login and password
 * (GitHub: "Creates OAuth tokens using Basic Authentication"), and, for users with two-factor
 * authentication, the one-time password in `X-GitHub-OTP`. Without it (or with a wrong one)
 * GitHub answers 401 with `X-GitHub-OTP: required; <sms|app>` (GitHub's "Other authentication
 * methods", "Working with two-factor authentication"); the password is checked first, so the
 * header only tells someone who knows it. A wrong password is 401 "Bad credentials".
 */
import type { EmulatorCore } from './core';
import type { OperationName } from './operations';
import { admit, afterCommit, type Ctx } from './pipeline';
import { badCredentials, json, requiresAuthentication, type Reply } from './responses';
import type { Account } from './state';
import { safeEqual } from './tokens';
import { docsBase } from './versions';

export type UserAuth = { ok: true; user: Account } | { ok: false; response: Response };

function decodeBasic(header: string | undefined): { login: string; password: string } | null {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  try {
    const text = new TextDecoder().decode(
      Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)),
    );
    const colon = text.indexOf(':');
    return colon < 0 ? null : { login: text.slice(0, colon), password: text.slice(colon + 1) };
  } catch {
    return null;
  }
}

export async function authenticateUser(
  core: EmulatorCore,
  reply: Reply,
  authorization: string | undefined,
  otpHeader: string | undefined,
): Promise<UserAuth> {
  if (authorization === undefined) return { ok: false, response: requiresAuthentication(reply) };
  const basic = decodeBasic(authorization);
  const user = basic ? core.state.accountByLogin(basic.login) : undefined;
  if (
    !basic ||
    !user ||
    user.type !== 'User' ||
    !core.users.passwordMatches(user.id, basic.password)
  )
    return { ok: false, response: badCredentials(reply) };
  const credential = core.users.get(user.id);
  if (credential?.twoFactor) {
    const expected = await core.users.otp(user.id, core.now());
    if (
      otpHeader === undefined ||
      expected === undefined ||
      !safeEqual(otpHeader.trim(), expected)
    ) {
      const response = json(
        reply,
        401,
        {
          message: 'Must specify two-factor authentication OTP code.',
          documentation_url: `${docsBase(reply.version)}/overview/other-authentication-methods#working-with-two-factor-authentication`,
        },
        { 'x-github-otp': `required; ${credential.twoFactor}` },
      );
      return { ok: false, response };
    }
  }
  return { ok: true, user };
}

/** What a route authenticated as a user gets once the request has passed the pipeline. */
export interface UserArgs {
  c: Ctx;
  core: EmulatorCore;
  reply: Reply;
  user: Account;
}

/**
 * The pipeline of every route authenticated as a user (the Authorizations API and `GET /user`),
 * in the order an appliance applies it: count → latency and faults → `X-GitHub-Api-Version`
 * (3.9+) → Basic `login:password` and OTP → the handler. `docs` is the path under `/rest`.
 */
export function userRoute(
  core: EmulatorCore,
  op: OperationName,
  docs: string,
  handler: (args: UserArgs) => Promise<Response>,
) {
  return async (c: Ctx): Promise<Response> => {
    const { reply, response: early, commitThenFail } = await admit(core, c, op, docs);
    if (early) return early;
    const auth = await authenticateUser(
      core,
      reply,
      c.req.header('authorization'),
      c.req.header('x-github-otp'),
    );
    if (!auth.ok) return auth.response;
    const response = await handler({ c, core, reply, user: auth.user });
    return afterCommit(core, reply, commitThenFail, response);
  };
}
