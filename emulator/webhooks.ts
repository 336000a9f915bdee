/**
 * GitHub App webhooks, as GHES sends them: revoking a user's authorization of a GitHub App
 * (`POST /_emulator/users/{login}/revoke`, what the user does in Settings → Applications)
 * deletes the grant and all its tokens, then delivers `github_app_authorization` `revoked` to the
 * configured `webhook_url` (POST /_emulator/config), signed like GHES signs it:
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA-256 of the raw body under the app's webhook secret>`,
 * with `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID) and a `GitHub-Hookshot/…` user agent.
 * OAuth apps get no such webhook from GHES, so revoking one delivers nothing.
 *
 * The delivery is awaited (GHES queues it; waiting makes tests and the demo deterministic) and its
 * outcome is in the answer. Its fetch is injectable, so a test can route it into a gateway.
 */
import type { Context, Hono } from 'hono';
import type { EmulatorCore } from './core';
import type { EmulatorEnv } from './pipeline';
import type { Account, App } from './state';

export type WebhookFetch = (url: string, init: RequestInit) => Promise<Response>;

/** How long a delivery may take before it counts as failed (GitHub gives up after 10 s). */
const DELIVERY_TIMEOUT_MS = 10_000;

/** The default delivery: the global fetch with GitHub's timeout (an injected one brings its own). */
export const defaultWebhookFetch: WebhookFetch = (url, init) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });

export interface WebhookDeliveryView {
  id: string;
  event: string;
  url: string;
  /** The receiver's HTTP status; null when the delivery failed before an answer. */
  status: number | null;
  error?: string;
}

/** `sha256=<hex>`: the X-Hub-Signature-256 of `body` under `secret`. */
export async function signWebhook(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body)));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The `sender` of a webhook payload: GitHub's simple user. */
function sender(account: Account, origin: string): Record<string, unknown> {
  return {
    login: account.login,
    id: account.id,
    node_id: btoa(`04:User${account.id}`),
    url: `${origin}/api/v3/users/${account.login}`,
    type: account.type,
    site_admin: account.siteAdmin,
  };
}

/** Delivers one event for `app` to the configured URL; null when none is configured. */
export async function deliverWebhook(
  core: EmulatorCore,
  fetchFn: WebhookFetch,
  app: App,
  event: string,
  payload: Record<string, unknown>,
): Promise<WebhookDeliveryView | null> {
  const configured = core.config.webhookUrl;
  if (configured === undefined || app.webhookSecret === null) return null;
  // Each GitHub App has its own webhook URL in GHES; `{app}` in webhook_url stands for its name.
  const url = configured.replaceAll('{app}', encodeURIComponent(app.name));
  const id = crypto.randomUUID();
  const body = JSON.stringify(payload);
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/ghes-emulator',
        'x-github-event': event,
        'x-github-delivery': id,
        'x-github-hook-installation-target-type': 'integration',
        'x-hub-signature-256': await signWebhook(app.webhookSecret, body),
      },
      body,
      redirect: 'manual',
    });
    await res.body?.cancel();
    return { id, event, url, status: res.status };
  } catch (e) {
    return { id, event, url, status: null, error: e instanceof Error ? e.name : 'failed' };
  }
}

function problem(c: Context<EmulatorEnv>, error: string, status: 400 | 404 = 400): Response {
  return c.json({ error }, status);
}

export function registerWebhookAdminRoutes(
  app: Hono<EmulatorEnv>,
  core: EmulatorCore,
  fetchFn: WebhookFetch,
): void {
  app.post('/_emulator/users/:login/revoke', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 'body must be JSON: {"app": "<name or client_id>"}');
    }
    const ref = (body as { app?: unknown } | null)?.app;
    if (typeof ref !== 'string' || ref === '')
      return problem(c, 'app (name or client_id) is required');
    const user = core.state.accountByLogin(c.req.param('login'));
    if (user?.type !== 'User') return problem(c, 'no such user', 404);
    const target = core.state.app(ref);
    if (target === undefined) return problem(c, 'no such app', 404);

    const removed = core.state.deleteGrant(target.clientId, user.id);
    const origin = core.config.baseUrl ?? new URL(c.req.url).origin;
    const webhook =
      target.kind === 'github_app'
        ? await deliverWebhook(core, fetchFn, target, 'github_app_authorization', {
            action: 'revoked',
            sender: sender(user, origin),
          })
        : null;
    return c.json({ login: user.login, app: target.name, tokens_revoked: removed, webhook });
  });
}
