/**
 * The Authorizations API calls for one request, each acting for one app and one GHES user. The
 * API exists on every release 2.18 – 3.22 (deprecated throughout), so nothing is gated by version.
 */
import type { AppConfig } from '../../config/types';
import type { GhesContext } from '../request';
import type { MintedAuthorization, PublicAuthorization } from '../types';
import { createAuthorization, type NewAuthorizationFields } from './create-authorization';
import { deleteAuthorization } from './delete-authorization';
import { deleteGrantById } from './delete-grant';
import { getAuthorization } from './get-authorization';
import { getGrant } from './get-grant';
import {
  getOrCreateAuthorization,
  type GetOrCreateFields,
  type GetOrCreateResult,
} from './get-or-create-authorization';
import { getUserId } from './get-user';
import { listAuthorizations } from './list-authorizations';
import { listGrants } from './list-grants';
import type { Page, PageRequest } from './page';
import type { Grant } from './types';
import { updateAuthorization, type AuthorizationUpdate } from './update-authorization';
import type { UserCredentials } from './user-call';

export interface AuthorizationsClient {
  list(
    app: AppConfig,
    user: UserCredentials,
    page: PageRequest,
  ): Promise<Page<PublicAuthorization>>;
  get(app: AppConfig, user: UserCredentials, id: number): Promise<PublicAuthorization>;
  create(
    app: AppConfig,
    user: UserCredentials,
    fields: NewAuthorizationFields,
  ): Promise<MintedAuthorization>;
  getOrCreate(
    app: AppConfig,
    user: UserCredentials,
    fields: GetOrCreateFields,
  ): Promise<GetOrCreateResult>;
  update(
    app: AppConfig,
    user: UserCredentials,
    id: number,
    update: AuthorizationUpdate,
  ): Promise<PublicAuthorization>;
  delete(app: AppConfig, user: UserCredentials, id: number): Promise<void>;
  listGrants(app: AppConfig, user: UserCredentials, page: PageRequest): Promise<Page<Grant>>;
  getGrant(app: AppConfig, user: UserCredentials, id: number): Promise<Grant>;
  deleteGrant(app: AppConfig, user: UserCredentials, id: number): Promise<void>;
  userId(app: AppConfig, user: UserCredentials): Promise<number>;
}

/** `context`: everything of a GhesContext but the app, which each call names. */
export function createAuthorizationsClient(
  context: Omit<GhesContext, 'app'>,
): AuthorizationsClient {
  const ctx = (app: AppConfig): GhesContext => ({ ...context, app });
  return {
    list: (app, user, page) => listAuthorizations(ctx(app), user, page),
    get: (app, user, id) => getAuthorization(ctx(app), user, id),
    create: (app, user, fields) => createAuthorization(ctx(app), user, fields),
    getOrCreate: (app, user, fields) => getOrCreateAuthorization(ctx(app), user, fields),
    update: (app, user, id, update) => updateAuthorization(ctx(app), user, id, update),
    delete: (app, user, id) => deleteAuthorization(ctx(app), user, id),
    listGrants: (app, user, page) => listGrants(ctx(app), user, page),
    getGrant: (app, user, id) => getGrant(ctx(app), user, id),
    deleteGrant: (app, user, id) => deleteGrantById(ctx(app), user, id),
    userId: (app, user) => getUserId(ctx(app), user),
  };
}
