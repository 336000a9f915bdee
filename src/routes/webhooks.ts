/**
 * POST /webhooks/github/{app}: GitHub App webhooks from GHES (docs/webhooks.md). Not behind
 * caller auth: the one credential is `X-Hub-Signature-256`, the HMAC-SHA-256 of the raw body under
 * the app's webhook secret (src/auth/webhook-signature.ts). The app is named by the path because
 * a `github_app_authorization` payload does not name it.
 *
 * Order: unknown app, OAuth app or no webhook secret → 404; body over the limit → 413; bad or
 * missing signature → 401 (nothing is read from the body, nothing changes); a delivery id seen
 * before → 200 `duplicate`, not acted on again; then the event (src/tokens/webhook-events.ts):
 * handled → 200 `processed` after the grant epochs moved; anything else → 202 `ignored`.
 */
import * as v from 'valibot';
import type { Context } from 'hono';
import { WebhookVerifier } from '../auth/webhook-signature';
import { DELIVERY_ID, DeliveryLog } from '../cache/deliveries';
import type { AppConfig } from '../config/types';
import type { AppEnv, GatewayDeps } from '../context';
import { GatewayError } from '../lib/errors';
import { echoable } from '../lib/secret-shaped';
import { bodyLimit } from '../middleware/body-limit';
import { noStore } from '../middleware/no-store';
import { EVENT_NAME, webhookAction } from '../tokens/webhook-events';
import { JSON_TYPE, type Api, type RouteSpec } from './api';
import { RETRY_AFTER, component, problem } from './schemas';

/**
 * GitHub caps payloads at 25 MB, but the events handled here are small; an `installation`
 * payload lists at most the repositories chosen, about 100 bytes each.
 */
export const WEBHOOK_MAX_BODY_BYTES = 262_144;

const PATH = '/webhooks/github/:app';

const Accepted = component(
  'WebhookAccepted',
  v.object({ status: v.picklist(['processed', 'duplicate', 'ignored']), event: v.string() }),
);

const webhookRoute = {
  method: 'post',
  path: '/webhooks/github/{app}',
  operationId: 'githubWebhook',
  tags: ['webhooks'],
  summary: 'GitHub App webhook from GHES (signed with the app’s webhook secret)',
  description:
    'Acts on `github_app_authorization` (revoked) and `installation` (deleted, suspend): the grants they end stop being answered from the cache (docs/webhooks.md). Other events are acknowledged and ignored.',
  security: [['webhookSignature']],
  request: {
    params: v.object({ app: v.pipe(v.string(), v.description('The GitHub App, as configured')) }),
    headers: v.object({
      // Checked by the handler after the signature (a 400 then), so optional here.
      'x-github-event': v.optional(
        v.pipe(v.string(), v.description('The event name (GHES sets it)')),
      ),
      'x-github-delivery': v.optional(
        v.pipe(v.string(), v.description('The delivery id (GHES sets it)')),
      ),
    }),
    body: {
      type: JSON_TYPE,
      raw: true,
      schema: v.pipe(
        v.record(v.string(), v.unknown()),
        v.description('The event payload as GHES sends it (signed as bytes)'),
      ),
    },
  },
  responses: {
    200: {
      description: 'Acted on (or a replay of a delivery already acted on)',
      content: { [JSON_TYPE]: Accepted },
    },
    202: {
      description: 'Acknowledged and ignored: an event or action that changes nothing here',
      content: { [JSON_TYPE]: Accepted },
    },
    400: problem('No delivery id or event name, or a handled event not understood'),
    401: problem('X-Hub-Signature-256 missing or wrong'),
    404: problem('No such GitHub App, or no webhook secret configured for it'),
    413: problem('Body over the limit'),
    503: problem('The revocation reached this instance only; GHES redelivers', RETRY_AFTER),
  },
} satisfies RouteSpec;

export interface WebhookRouteDeps extends Pick<GatewayDeps, 'config' | 'tokens' | 'log'> {
  deliveries: DeliveryLog;
}

export function registerWebhookRoutes(api: Api, deps: WebhookRouteDeps): void {
  const verifier = new WebhookVerifier();

  const webhookApp = (c: Context<AppEnv>): AppConfig & { webhookSecret: string } => {
    const name = c.req.param('app') ?? '';
    const audit = c.get('audit');
    audit.operation = 'webhook';
    audit.app = echoable(name);
    const found = deps.config.apps.get(name);
    // One answer for "no such app", "an OAuth app" and "no secret": the path reveals nothing more.
    if (found?.kind !== 'github_app' || found.webhookSecret === undefined)
      throw new GatewayError('not-found', {
        detail: 'No GitHub App with a webhook secret has this name',
      });
    return found as AppConfig & { webhookSecret: string };
  };

  api.use(PATH, noStore());
  api.use(PATH, async function webhookAppExists(c, next) {
    webhookApp(c);
    await next();
  });
  api.use(PATH, bodyLimit({ maxBytes: WEBHOOK_MAX_BODY_BYTES }));

  api.route(webhookRoute, async (c) => {
    const target = webhookApp(c);
    const audit = c.get('audit');
    const body = new Uint8Array(await c.req.raw.arrayBuffer());
    const signature = c.req.header('x-hub-signature-256');
    if (!(await verifier.verify(target.webhookSecret, signature, body)))
      throw new GatewayError('webhook-signature-invalid', {
        detail:
          signature === undefined
            ? 'X-Hub-Signature-256 is missing'
            : "X-Hub-Signature-256 does not match the body under this app's webhook secret",
      });

    const event = c.req.header('x-github-event') ?? '';
    const delivery = c.req.header('x-github-delivery') ?? '';
    if (!EVENT_NAME.test(event) || !DELIVERY_ID.test(delivery))
      throw new GatewayError('invalid-request', {
        detail: 'X-GitHub-Event and X-GitHub-Delivery must be set as GHES sets them',
      });
    if (!(await deps.deliveries.claim(target.clientId, delivery))) {
      audit.outcome = 'duplicate';
      return c.json({ status: 'duplicate' as const, event }, 200);
    }

    // Handled: remembered in KV too. Ignored: only here (a replay of it changes nothing, and a
    // KV write per push or ping would cost more than it saves). Failed: forgotten, so GHES's
    // redelivery is acted on.
    let outcome: 'commit' | 'keep' | 'release' = 'release';
    try {
      const action = webhookAction(event, parseJson(body));
      if (!action.ok)
        throw new GatewayError('invalid-request', {
          detail: `The ${event} payload is not as GitHub documents it (${action.error})`,
        });
      if (action.value.kind === 'ignore') {
        audit.outcome = 'ignored';
        outcome = 'keep';
        return c.json({ status: 'ignored' as const, event }, 202);
      }
      const replicated = await deps.tokens.grantsRevokedInGhes(target, action.value.userIds);
      deps.log({
        level: 'info',
        event: 'webhook.grants_revoked',
        app: target.name,
        delivery,
        handled: action.value.handled,
        user_ids: action.value.userIds,
      });
      // KV did not take the epoch: other isolates were not told. GHES marks the delivery failed,
      // and its redelivery (same delivery id, which stays unclaimed) is acted on again.
      if (!replicated)
        throw new GatewayError('webhook-not-replicated', {
          detail: 'The revocation reached this instance only; redeliver this delivery',
          headers: { 'retry-after': '60' },
        });
      audit.outcome = 'processed';
      outcome = 'commit';
      return c.json({ status: 'processed' as const, event }, 200);
    } finally {
      if (outcome === 'commit') await deps.deliveries.commit(target.clientId, delivery);
      else if (outcome === 'release') deps.deliveries.release(target.clientId, delivery);
    }
  });
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return undefined;
  }
}
