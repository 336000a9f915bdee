/**
 * Which GitHub App webhook deliveries change what the cache may answer, and how (pure). A
 * delivery reaches this only with a valid signature, but its payload is still untrusted input:
 * only the fields read here are validated, and nothing else of it is kept or logged.
 *
 * - `github_app_authorization` `revoked`: the user revoked the app in their settings, and GHES
 *   revoked every user token of that app for them ("GitHub App authorization" webhook docs).
 *   → the user's grant epoch: every cached check of their tokens for the app re-checks at once.
 * - `installation` `deleted` / `suspend`: the app lost access to the account's resources, so
 *   scoped tokens aimed at it stop working. The cache cannot find tokens by installation or
 *   target; what it can do is move the grant epochs of the users the event names: the account,
 *   when it is a user, and the sender. Scoped tokens of other users for an organization keep their
 *   cached answer for at most CACHE_POSITIVE_TTL_S (docs/webhooks.md).
 * - Anything else (`ping`, `installation` `created`, other events): acknowledged and ignored.
 */
import * as v from 'valibot';
import { object } from '../lib/schema';
import { err, ok, type Result } from '../lib/result';

export type WebhookAction =
  | { kind: 'invalidate-grants'; userIds: number[]; handled: string }
  | { kind: 'ignore'; reason: 'unhandled-event' | 'unhandled-action' };

/** The events and actions that invalidate; the docs and tests list the same. */
export const HANDLED_EVENTS: Readonly<Record<string, readonly string[]>> = {
  github_app_authorization: ['revoked'],
  installation: ['deleted', 'suspend'],
};

/** Safe integers only: an id past 2^53 would name another user. */
const userId = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const actionOnly = object({ action: v.pipe(v.string(), v.maxLength(100)) });
const authorizationPayload = object({ sender: object({ id: userId }) });
const installationPayload = object({
  sender: object({ id: userId }),
  installation: object({
    id: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
    account: v.nullish(object({ id: userId, type: v.pipe(v.string(), v.maxLength(50)) })),
  }),
});

/** The event name as GHES sends it in `X-GitHub-Event`. */
export const EVENT_NAME = /^[a-z_]{1,64}$/;

/** What to do about one delivery; an error names the field that was not as GitHub documents it. */
export function webhookAction(event: string, payload: unknown): Result<WebhookAction, string> {
  const actions = Object.hasOwn(HANDLED_EVENTS, event) ? HANDLED_EVENTS[event] : undefined;
  if (actions === undefined) return ok({ kind: 'ignore', reason: 'unhandled-event' });
  const head = v.safeParse(actionOnly, payload);
  if (!head.success) return err('action: must be a string');
  if (!actions.includes(head.output.action))
    return ok({ kind: 'ignore', reason: 'unhandled-action' });
  const handled = `${event}.${head.output.action}`;

  if (event === 'github_app_authorization') {
    const p = v.safeParse(authorizationPayload, payload);
    if (!p.success) return err('sender.id: must be a user id');
    return ok({ kind: 'invalidate-grants', userIds: [p.output.sender.id], handled });
  }
  const p = v.safeParse(installationPayload, payload);
  if (!p.success) return err(`${issuePath(p.issues)}: not as GitHub documents it`);
  const account = p.output.installation.account;
  const ids = new Set<number>([p.output.sender.id]);
  if (account?.type === 'User') ids.add(account.id);
  return ok({ kind: 'invalidate-grants', userIds: [...ids].sort((a, b) => a - b), handled });
}

function issuePath(issues: readonly v.BaseIssue<unknown>[]): string {
  const path = issues[0]?.path ?? [];
  return path.length > 0 ? path.map((p) => String(p.key)).join('.') : '(payload)';
}
