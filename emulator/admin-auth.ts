/**
 * Admin routes (not GHES) for the user side of authorization: users with passwords and
 * two-factor authentication, the OTP valid now, and authorization codes, i.e. what GHES hands
 * the browser once a user has authorized an app on /login/oauth/authorize. Loopback only, like
 * the rest of /_emulator: these answers carry passwords and codes.
 */
import type { Context, Hono } from 'hono';
import type { EmulatorCore } from './core';
import { CODE_LIFETIME_MS } from './oauth-codes';
import type { EmulatorEnv } from './pipeline';
import { isoSeconds } from './render';
import { newAuthorizationCode } from './tokens';
import type { TwoFactor } from './users';

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

type Body = Record<string, unknown>;

async function objectBody(c: Context<EmulatorEnv>): Promise<Body | undefined> {
  try {
    const value = (await c.req.json()) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Body)
      : undefined;
  } catch {
    return undefined;
  }
}

function problem(c: Context<EmulatorEnv>, error: string, status: 400 | 404 = 400): Response {
  return c.json({ error }, status);
}

function unknownFields(body: Body, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  return extra.length > 0 ? `unknown field(s): ${extra.join(', ')}` : undefined;
}

export function registerAuthAdminRoutes(app: Hono<EmulatorEnv>, core: EmulatorCore): void {
  app.get('/_emulator/users', (c) =>
    c.json(
      core.users.ids().flatMap((id) => {
        const account = core.state.accounts.get(id);
        const credential = core.users.get(id);
        if (!account || !credential) return [];
        return [
          {
            login: account.login,
            id,
            password: credential.password,
            two_factor: credential.twoFactor,
          },
        ];
      }),
    ),
  );

  app.post('/_emulator/users', async (c) => {
    const body = await objectBody(c);
    if (!body) return problem(c, 'body must be a JSON object');
    const extra = unknownFields(body, ['login', 'password', 'two_factor']);
    if (extra) return problem(c, extra);
    const { login, password, two_factor: twoFactor } = body;
    if (typeof login !== 'string' || !LOGIN.test(login))
      return problem(c, 'login must be a GitHub login');
    if (typeof password !== 'string' || password.length === 0 || password.length > 256)
      return problem(c, 'password must be a string of 1 to 256 characters');
    if (twoFactor !== undefined && twoFactor !== null && twoFactor !== 'sms' && twoFactor !== 'app')
      return problem(c, 'two_factor must be "sms", "app" or null');
    const account = core.state.accountByLogin(login) ?? core.state.addAccount(login);
    if (account.type !== 'User') return problem(c, `${login} is not a user`);
    core.users.set(account.id, password, (twoFactor as TwoFactor | null | undefined) ?? null);
    return c.json({ login: account.login, id: account.id }, 201);
  });

  app.get('/_emulator/users/:login/otp', async (c) => {
    const account = core.state.accountByLogin(c.req.param('login'));
    if (!account || !core.users.get(account.id)) return problem(c, 'no such user', 404);
    const otp = await core.users.otp(account.id, core.now());
    if (otp === undefined) return problem(c, 'the user has no two-factor authentication');
    return c.json({ otp });
  });

  app.post('/_emulator/oauth/codes', async (c) => {
    const body = await objectBody(c);
    if (!body) return problem(c, 'body must be a JSON object');
    const extra = unknownFields(body, [
      'app',
      'login',
      'scopes',
      'redirect_uri',
      'code_challenge',
      'code_challenge_method',
    ]);
    if (extra) return problem(c, extra);
    const { app: ref, login, scopes, redirect_uri: redirectUri } = body;
    const { code_challenge: challenge, code_challenge_method: method } = body;
    const client = typeof ref === 'string' ? core.state.app(ref) : undefined;
    if (!client) return problem(c, 'app must name an app (name or client_id)');
    if (typeof login !== 'string' || !LOGIN.test(login))
      return problem(c, 'login must be a GitHub login');
    if (
      scopes !== undefined &&
      !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))
    )
      return problem(c, 'scopes must be an array of strings');
    if (client.kind === 'github_app' && Array.isArray(scopes) && scopes.length > 0)
      return problem(c, 'GitHub App user tokens have no OAuth scopes');
    if (redirectUri !== undefined && typeof redirectUri !== 'string')
      return problem(c, 'redirect_uri must be a string');
    if (challenge !== undefined && typeof challenge !== 'string')
      return problem(c, 'code_challenge must be a string');
    // github.com accepts only S256 ("Only the S256 code challenge method is accepted").
    if (core.pkce && challenge !== undefined && method !== 'S256')
      return problem(c, 'code_challenge_method must be S256 (GitHub refuses plain)');
    const account = core.state.accountByLogin(login) ?? core.state.addAccount(login);
    if (account.type !== 'User') return problem(c, `${login} is not a user`);
    const now = core.now();
    const code = newAuthorizationCode();
    core.oauth.codes.set(code, {
      clientId: client.clientId,
      userId: account.id,
      scopes: (scopes as string[] | undefined) ?? [],
      redirectUri: redirectUri ?? null,
      // Where PKCE is off, GHES's authorize page ignores the challenge (GitHub's docs).
      codeChallenge: core.pkce && typeof challenge === 'string' ? challenge : null,
      expiresAt: now + CODE_LIFETIME_MS,
    });
    return c.json(
      {
        code,
        expires_at: isoSeconds(now + CODE_LIFETIME_MS),
        pkce: core.pkce && challenge !== undefined,
      },
      201,
    );
  });
}
