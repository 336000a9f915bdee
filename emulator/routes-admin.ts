/**
 * The emulator's own control API under /_emulator (not part of GHES): list apps with their
 * secrets, mint tokens, inject faults, read call counts, change configuration, restore the seed.
 * It hands out client secrets by design, so the Node runner binds it to 127.0.0.1 only.
 */
import type { Context, Hono } from 'hono';
import { emptyCalls, type EmulatorCore } from './core';
import { parseFault, type FaultSpec } from './faults';
import { isoSeconds } from './render';
import type { EmulatorEnv } from './pipeline';
import {
  EmulatorInputError,
  type AppKind,
  type EmulatorState,
  type NewToken,
  type TokenRecord,
} from './state';

export interface AppInfo {
  name: string;
  client_id: string;
  client_secret: string;
  kind: AppKind;
  /** GitHub Apps: the secret its webhook deliveries are signed with; null for OAuth apps. */
  webhook_secret: string | null;
}

/** What minting a token returns: the token and its non-secret facts. */
export interface CreatedToken {
  token: string;
  id: number;
  app: string;
  client_id: string;
  kind: AppKind;
  login: string;
  user_id: number;
  scopes: string[];
  token_last_eight: string;
  created_at: string;
  expires_at: string | null;
}

export function describeToken(record: TokenRecord, state: EmulatorState): CreatedToken {
  const app = state.apps.get(record.clientId);
  const user = state.accounts.get(record.userId);
  if (!app || !user) throw new Error('token refers to a removed app or user');
  return {
    token: record.token,
    id: record.id,
    app: app.name,
    client_id: app.clientId,
    kind: app.kind,
    login: user.login,
    user_id: user.id,
    scopes: [...record.scopes],
    token_last_eight: record.token.slice(-8),
    created_at: isoSeconds(record.createdAt),
    expires_at: record.expiresAt === null ? null : isoSeconds(record.expiresAt),
  };
}

export function appInfos(state: EmulatorState): AppInfo[] {
  return [...state.apps.values()].map((a) => ({
    name: a.name,
    client_id: a.clientId,
    client_secret: a.clientSecret,
    kind: a.kind,
    webhook_secret: a.webhookSecret,
  }));
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates the body of POST /_emulator/tokens. */
export function parseNewToken(input: unknown): Parsed<NewToken> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'body must be a JSON object' };
  }
  const raw = input as Record<string, unknown>;
  const allowed = new Set([
    'app',
    'login',
    'scopes',
    'expires_in',
    'note',
    'note_url',
    'fingerprint',
  ]);
  const unknown = Object.keys(raw).filter((k) => !allowed.has(k));
  if (unknown.length > 0) return { ok: false, error: `unknown field(s): ${unknown.join(', ')}` };
  const { app, login, scopes, expires_in: expiresIn, note, note_url: noteUrl, fingerprint } = raw;
  if (typeof app !== 'string' || app === '')
    return { ok: false, error: 'app (name or client_id) is required' };
  if (typeof login !== 'string' || !LOGIN.test(login))
    return { ok: false, error: 'login must be a GitHub login' };
  const out: NewToken = { app, login };
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string')) {
      return { ok: false, error: 'scopes must be an array of strings' };
    }
    out.scopes = scopes as string[];
  }
  if (expiresIn !== undefined) {
    if (
      expiresIn !== null &&
      !(typeof expiresIn === 'number' && Number.isInteger(expiresIn) && expiresIn > 0)
    ) {
      return { ok: false, error: 'expires_in must be a positive integer (seconds) or null' };
    }
    out.expiresIn = expiresIn;
  }
  for (const [key, value] of [
    ['note', note],
    ['noteUrl', noteUrl],
    ['fingerprint', fingerprint],
  ] as const) {
    if (value === undefined) continue;
    if (value !== null && typeof value !== 'string')
      return { ok: false, error: `${key} must be a string or null` };
    out[key] = value;
  }
  return { ok: true, value: out };
}

export interface AdminHooks {
  createToken(input: NewToken): CreatedToken;
  reset(): void;
}

async function jsonBody(
  c: Context<EmulatorEnv>,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: (await c.req.json()) as unknown };
  } catch {
    return { ok: false };
  }
}

function problem(c: Context<EmulatorEnv>, error: string, status: 400 | 404 = 400): Response {
  return c.json({ error }, status);
}

export function registerAdminRoutes(
  app: Hono<EmulatorEnv>,
  core: EmulatorCore,
  hooks: AdminHooks,
): void {
  app.get('/_emulator/apps', (c) => c.json(appInfos(core.state)));

  app.post('/_emulator/apps', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return problem(c, 'body must be JSON');
    const raw = body.value as Record<string, unknown> | null;
    const name = raw?.['name'];
    const kind = raw?.['kind'];
    const clientId = raw?.['client_id'];
    if (typeof name !== 'string' || !LOGIN.test(name))
      return problem(c, 'name must be a slug like demo-app');
    if (kind !== 'oauth_app' && kind !== 'github_app')
      return problem(c, 'kind must be oauth_app or github_app');
    if (clientId !== undefined && typeof clientId !== 'string')
      return problem(c, 'client_id must be a string');
    try {
      const created = core.state.addApp({
        name,
        kind,
        ...(clientId !== undefined && { clientId }),
      });
      return c.json(
        appInfos(core.state).find((a) => a.client_id === created.clientId),
        201,
      );
    } catch (err) {
      if (err instanceof EmulatorInputError) return problem(c, err.message);
      throw err;
    }
  });

  app.post('/_emulator/installations', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return problem(c, 'body must be JSON');
    const raw = body.value as Record<string, unknown> | null;
    const appRef = raw?.['app'];
    const account = raw?.['account'];
    const permissions = raw?.['permissions'];
    const repositories = raw?.['repositories'];
    if (typeof appRef !== 'string' || typeof account !== 'string')
      return problem(c, 'app and account are required');
    if (
      typeof permissions !== 'object' ||
      permissions === null ||
      Object.values(permissions).some((v) => typeof v !== 'string')
    ) {
      return problem(c, 'permissions must map permission names to levels');
    }
    if (
      repositories !== undefined &&
      (!Array.isArray(repositories) || repositories.some((r) => typeof r !== 'string'))
    ) {
      return problem(c, 'repositories must be an array of names');
    }
    try {
      const inst = core.state.installApp({
        app: appRef,
        account,
        permissions: permissions as Record<string, string>,
        ...(repositories !== undefined && { repositories: repositories as string[] }),
      });
      return c.json({ id: inst.id, repository_selection: inst.repositorySelection }, 201);
    } catch (err) {
      if (err instanceof EmulatorInputError) return problem(c, err.message);
      throw err;
    }
  });

  app.post('/_emulator/tokens', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return problem(c, 'body must be JSON');
    const parsed = parseNewToken(body.value);
    if (!parsed.ok) return problem(c, parsed.error);
    try {
      return c.json(hooks.createToken(parsed.value), 201);
    } catch (err) {
      if (err instanceof EmulatorInputError) return problem(c, err.message);
      throw err;
    }
  });

  /** Revokes a token directly in "GHES", bypassing any gateway (body: {"token": "…"}). */
  app.delete('/_emulator/tokens', async (c) => {
    const body = await jsonBody(c);
    const token = body.ok ? (body.value as Record<string, unknown> | null)?.['token'] : undefined;
    if (typeof token !== 'string') return problem(c, 'body must be {"token": "…"}');
    return core.state.revokeToken(token) ? c.body(null, 204) : problem(c, 'no such token', 404);
  });

  app.get('/_emulator/faults', (c) => c.json(core.faults.list()));

  app.post('/_emulator/faults', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return problem(c, 'body must be JSON');
    const items = Array.isArray(body.value) ? body.value : [body.value];
    const specs: FaultSpec[] = [];
    for (const item of items) {
      const parsed = parseFault(item);
      if (!parsed.ok) return problem(c, parsed.error);
      specs.push(parsed.value);
    }
    const added = specs.map((s) => core.faults.add(s));
    return c.json(Array.isArray(body.value) ? added : added[0], 201);
  });

  app.delete('/_emulator/faults', (c) => {
    core.faults.clear();
    return c.body(null, 204);
  });

  app.get('/_emulator/calls', (c) => c.json(core.calls));

  app.delete('/_emulator/calls', (c) => {
    core.calls = emptyCalls();
    return c.body(null, 204);
  });

  app.get('/_emulator/config', (c) => c.json(core.configView()));

  app.post('/_emulator/config', async (c) => {
    const body = await jsonBody(c);
    if (
      !body.ok ||
      typeof body.value !== 'object' ||
      body.value === null ||
      Array.isArray(body.value)
    ) {
      return problem(c, 'body must be a JSON object');
    }
    const error = core.configure(body.value as Record<string, unknown>);
    return error ? problem(c, error) : c.json(core.configView());
  });

  app.post('/_emulator/reset', (c) => {
    hooks.reset();
    return c.body(null, 204);
  });

  app.all('/_emulator/*', (c) => problem(c, 'unknown emulator admin route', 404));
}
