/** Signed GitHub App webhook deliveries to a test gateway, as GHES sends them. */
import { signWebhookBody } from '../../src/auth/webhook-signature';
import type { TestGateway } from '../helpers/gateway';

export const GH_APP = 'demo-github-app';
export const webhookPath = (app: string): string => `/webhooks/github/${app}`;

export interface Delivery {
  app?: string;
  event?: string;
  payload?: unknown;
  /** The raw body, instead of `payload`. */
  body?: string;
  delivery?: string;
  /** Sign with this secret instead of the app's. */
  secret?: string;
  /** Send exactly this X-Hub-Signature-256 (null: none). */
  signature?: string | null;
  headers?: Record<string, string>;
}

export function webhookSecret(gw: TestGateway, app = GH_APP): string {
  const secret = gw.apps.find((a) => a.name === app)?.webhook_secret;
  if (typeof secret !== 'string') throw new Error(`${app} has no webhook secret`);
  return secret;
}

export const revoked = (userId: number, login = 'octocat') => ({
  action: 'revoked',
  sender: { login, id: userId, type: 'User' },
});

export async function deliver(gw: TestGateway, d: Delivery = {}): Promise<Response> {
  const app = d.app ?? GH_APP;
  const body = d.body ?? JSON.stringify(d.payload ?? revoked(1));
  const signature =
    d.signature !== undefined
      ? d.signature
      : await signWebhookBody(d.secret ?? webhookSecret(gw, app), body);
  return gw.request(webhookPath(app), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/emulator',
      'x-github-event': d.event ?? 'github_app_authorization',
      'x-github-delivery': d.delivery ?? crypto.randomUUID(),
      ...(signature !== null && { 'x-hub-signature-256': signature }),
      ...d.headers,
    },
    body,
  });
}

/** The token's check answer status through the gateway (200 active, 404 not). */
export async function checkStatus(gw: TestGateway, token: string, app = GH_APP): Promise<number> {
  const res = await gw.post(`/v1/apps/${app}/token/check`, { access_token: token });
  await res.body?.cancel();
  return res.status;
}
