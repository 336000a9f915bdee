/**
 * PUT /authorizations/clients/{client_id}[/{fingerprint}] with the client secret: 201 and a new
 * token when none existed, 200 and the existing authorization otherwise — whose token GHES does
 * not show again (an empty `token`). Retried like any PUT: a retry after a lost 201 answers 200,
 * which the caller handles as "exists, token not returned".
 */
import { GatewayError } from '../../lib/errors';
import { ghesRequest, type GhesContext } from '../request';
import type { PublicAuthorization } from '../types';
import { userCall } from './call';
import { GetOrCreateAnswerSchema } from './types';
import type { UserCredentials } from './user-call';

export interface GetOrCreateFields {
  scopes?: string[] | undefined;
  note?: string | undefined;
  note_url?: string | undefined;
  fingerprint?: string | undefined;
}

export type GetOrCreateResult =
  | { created: true; authorization: PublicAuthorization; token: string }
  | { created: false; authorization: PublicAuthorization };

export async function getOrCreateAuthorization(
  ctx: GhesContext,
  user: UserCredentials,
  fields: GetOrCreateFields,
): Promise<GetOrCreateResult> {
  const { fingerprint, ...rest } = fields;
  const client = encodeURIComponent(ctx.app.clientId);
  const path =
    fingerprint === undefined
      ? `/authorizations/clients/${client}`
      : `/authorizations/clients/${client}/${encodeURIComponent(fingerprint)}`;
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorization_get_or_create',
      method: 'PUT',
      path,
      body: { ...rest, client_secret: ctx.app.clientSecret },
      answer: GetOrCreateAnswerSchema,
    }),
  );
  const { token, ...authorization } = res.data;
  if (authorization.app.client_id !== ctx.app.clientId)
    throw new GatewayError('upstream-error', {
      detail: 'GHES answered with an authorization of another app',
      upstreamStatus: res.status,
      mayHaveApplied: true,
    });
  if (res.status !== 201) return { created: false, authorization };
  if (token === undefined || !/^[\x21-\x7e]{1,255}$/.test(token))
    throw new GatewayError('upstream-outcome-unknown', {
      detail: 'GHES created the authorization but its answer carries no usable token',
      upstreamStatus: 201,
      mayHaveApplied: true,
    });
  return { created: true, authorization, token };
}
