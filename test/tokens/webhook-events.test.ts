/** The event → action mapping of GitHub App webhooks (src/tokens/webhook-events.ts), pure. */
import { describe, expect, it } from 'vitest';
import { HANDLED_EVENTS, webhookAction } from '../../src/tokens/webhook-events';

const sender = { login: 'alice', id: 101, type: 'User' };

describe('webhookAction', () => {
  it('github_app_authorization revoked → the sender’s grant epoch', () => {
    expect(webhookAction('github_app_authorization', { action: 'revoked', sender })).toEqual({
      ok: true,
      value: {
        kind: 'invalidate-grants',
        userIds: [101],
        handled: 'github_app_authorization.revoked',
      },
    });
  });

  it.each(['deleted', 'suspend'])(
    'installation %s on a user account → that user and the sender',
    (action) => {
      const payload = {
        action,
        sender: { id: 7 },
        installation: { id: 5, account: { login: 'bob', id: 202, type: 'User' } },
      };
      expect(webhookAction('installation', payload)).toEqual({
        ok: true,
        value: { kind: 'invalidate-grants', userIds: [7, 202], handled: `installation.${action}` },
      });
    },
  );

  it('installation deleted on an organization → the sender only (docs/webhooks.md)', () => {
    const payload = {
      action: 'deleted',
      sender: { id: 7 },
      installation: { id: 5, account: { login: 'acme', id: 900, type: 'Organization' } },
    };
    expect(webhookAction('installation', payload)).toEqual({
      ok: true,
      value: { kind: 'invalidate-grants', userIds: [7], handled: 'installation.deleted' },
    });
  });

  it('the account being the sender is named once', () => {
    const payload = {
      action: 'suspend',
      sender: { id: 202 },
      installation: { id: 5, account: { id: 202, type: 'User' } },
    };
    const r = webhookAction('installation', payload);
    expect(r.ok && r.value.kind === 'invalidate-grants' && r.value.userIds).toEqual([202]);
  });

  it.each([
    ['ping', { zen: 'Keep it logically awesome.', hook_id: 1 }],
    ['push', { action: 'revoked', sender }],
    ['toString', { action: 'revoked', sender }],
    ['__proto__', { action: 'revoked', sender }],
    ['installation_repositories', { action: 'removed', sender }],
  ])('unknown event %s → ignored', (event, payload) => {
    expect(webhookAction(event, payload)).toEqual({
      ok: true,
      value: { kind: 'ignore', reason: 'unhandled-event' },
    });
  });

  it.each([
    ['installation', 'created'],
    ['installation', 'unsuspend'],
    ['installation', 'new_permissions_accepted'],
    ['github_app_authorization', 'granted'],
  ])('%s %s → ignored as an unhandled action', (event, action) => {
    expect(webhookAction(event, { action, sender })).toEqual({
      ok: true,
      value: { kind: 'ignore', reason: 'unhandled-action' },
    });
  });

  it.each([
    ['no action', 'github_app_authorization', { sender }, 'action: must be a string'],
    ['a numeric action', 'installation', { action: 1 }, 'action: must be a string'],
    ['not an object', 'github_app_authorization', 'revoked', 'action: must be a string'],
    [
      'no sender',
      'github_app_authorization',
      { action: 'revoked' },
      'sender.id: must be a user id',
    ],
    [
      'a string sender id',
      'github_app_authorization',
      { action: 'revoked', sender: { id: '101' } },
      'sender.id: must be a user id',
    ],
    [
      'a negative sender id',
      'github_app_authorization',
      { action: 'revoked', sender: { id: -1 } },
      'sender.id: must be a user id',
    ],
    [
      'an unsafe sender id',
      'github_app_authorization',
      { action: 'revoked', sender: { id: 2 ** 60 } },
      'sender.id: must be a user id',
    ],
    [
      'no installation',
      'installation',
      { action: 'deleted', sender: { id: 1 } },
      'installation: not as GitHub documents it',
    ],
    [
      'a bad account id',
      'installation',
      {
        action: 'deleted',
        sender: { id: 1 },
        installation: { id: 2, account: { id: 1.5, type: 'User' } },
      },
      'installation.account.id: not as GitHub documents it',
    ],
    [
      'an installation that is an array',
      'installation',
      { action: 'deleted', sender: { id: 1 }, installation: [] },
      'installation: not as GitHub documents it',
    ],
    [
      'a fractional installation id',
      'installation',
      { action: 'deleted', sender: { id: 1 }, installation: { id: 2.5 } },
      'installation.id: not as GitHub documents it',
    ],
    [
      'an unsafe installation id',
      'installation',
      { action: 'deleted', sender: { id: 1 }, installation: { id: 2 ** 60 } },
      'installation.id: not as GitHub documents it',
    ],
    [
      'a sender that is an array',
      'github_app_authorization',
      { action: 'revoked', sender: [] },
      'sender.id: must be a user id',
    ],
  ])('a handled event with %s is refused with the field named', (_, event, payload, error) => {
    expect(webhookAction(event, payload)).toEqual({ ok: false, error });
  });

  it.each([
    ['null', { id: 2, account: null }],
    ['missing', { id: 2 }],
  ])('an installation whose account is %s → the sender only', (_, installation) => {
    expect(webhookAction('installation', { action: 'deleted', sender, installation })).toEqual({
      ok: true,
      value: { kind: 'invalidate-grants', userIds: [sender.id], handled: 'installation.deleted' },
    });
  });

  it('lists exactly the handled events and actions', () => {
    expect(HANDLED_EVENTS).toEqual({
      github_app_authorization: ['revoked'],
      installation: ['deleted', 'suspend'],
    });
  });
});
