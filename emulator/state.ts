/**
 * The emulated GHES database: accounts, OAuth apps and GitHub Apps, installations, repositories,
 * grants (one per user × app) and tokens. Pure in-memory data with `now` passed in; no HTTP here.
 * Rules that GitHub documents (grant deletion kills every token of the user for the app, scoped
 * tokens only narrow the installation, expired tokens are unknown) live in these methods so the
 * routes stay thin.
 */
import { levelWithin } from './permissions';
import { newClientSecret, newGithubAppClientId, newOauthClientId, newUserToken } from './tokens';
import { parseVersion, type GhesVersion } from './versions';

export type AppKind = 'oauth_app' | 'github_app';
export type AccountType = 'User' | 'Organization';

export interface Account {
  readonly id: number;
  readonly login: string;
  readonly type: AccountType;
  readonly siteAdmin: boolean;
  /** Organisation members (user ids); empty for users. */
  readonly members: Set<number>;
}

export interface App {
  readonly name: string;
  readonly kind: AppKind;
  readonly clientId: string;
  /** Secret: never logged or printed. */
  readonly clientSecret: string;
  /** The app's homepage, GitHub's `app.url`. */
  readonly url: string;
  /** Secret: the HMAC key of the app's webhook deliveries; GitHub Apps only (null otherwise). */
  readonly webhookSecret: string | null;
}

export interface Repository {
  readonly id: number;
  readonly name: string;
  readonly ownerId: number;
}

export type RepositorySelection = 'all' | 'selected';

export interface Installation {
  readonly id: number;
  readonly clientId: string;
  readonly accountId: number;
  readonly permissions: Readonly<Record<string, string>>;
  readonly repositorySelection: RepositorySelection;
  /** Repository ids when the selection is `selected`. */
  readonly repositoryIds: readonly number[];
}

/** What a scoped token is narrowed to (GitHub's `scoped-installation`). */
export interface TokenScope {
  readonly installationId: number;
  readonly accountId: number;
  readonly permissions: Readonly<Record<string, string>>;
  readonly repositorySelection: RepositorySelection;
  readonly repositoryIds: readonly number[];
}

export interface TokenRecord {
  /** Authorization id; reset keeps it, as GitHub regenerates the token of the same authorization. */
  readonly id: number;
  /** Secret. */
  token: string;
  readonly clientId: string;
  readonly userId: number;
  /** These four change with PATCH /authorizations/{id}. */
  scopes: readonly string[];
  note: string | null;
  noteUrl: string | null;
  fingerprint: string | null;
  readonly createdAt: number;
  updatedAt: number;
  /** Epoch ms, or null for a token that never expires. */
  expiresAt: number | null;
  /** Lifetime re-applied on reset; null when the token does not expire. */
  readonly lifetimeSeconds: number | null;
  readonly scope: TokenScope | null;
}

/** A request the emulated GHES refuses with 422; `field` names the offending body member. */
export class ValidationFailure extends Error {
  constructor(
    readonly field: string,
    readonly code: 'missing_field' | 'invalid' | 'custom',
    message: string,
  ) {
    super(message);
    this.name = 'ValidationFailure';
  }
}

/** A bad use of the emulator's own admin or TypeScript API (not a GHES behaviour). */
export class EmulatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorInputError';
  }
}

/** GitHub's default lifetime of an expiring GitHub-App user access token: 8 hours. */
export const GITHUB_APP_TOKEN_LIFETIME_SECONDS = 8 * 60 * 60;

export interface NewApp {
  name: string;
  kind: AppKind;
  clientId?: string;
  clientSecret?: string;
  url?: string;
  /** GitHub Apps only; drawn at random when left out. */
  webhookSecret?: string;
}

export interface NewToken {
  /** App name or client id. */
  app: string;
  login: string;
  scopes?: readonly string[];
  /** Seconds until expiry; null for never. Default: 8 h for GitHub Apps, never for OAuth apps. */
  expiresIn?: number | null;
  note?: string | null;
  noteUrl?: string | null;
  fingerprint?: string | null;
  /** Seeding only: reuse a token value so a reset restores the same seed tokens. */
  token?: string;
}

export interface NewInstallation {
  app: string;
  account: string;
  permissions: Readonly<Record<string, string>>;
  /** Repository names; omitted means all repositories of the account. */
  repositories?: readonly string[];
}

export interface ScopeRequest {
  target?: string;
  targetId?: number;
  repositories?: readonly string[];
  repositoryIds?: readonly number[];
  permissions?: Readonly<Record<string, string>>;
}

export class EmulatorState {
  readonly accounts = new Map<number, Account>();
  readonly apps = new Map<string, App>();
  readonly installations = new Map<number, Installation>();
  readonly repositories = new Map<number, Repository>();
  readonly tokens = new Map<string, TokenRecord>();
  /** Key `${clientId}:${userId}` → grant creation time. */
  readonly grants = new Map<string, number>();
  /** Key `${clientId}:${userId}` → grant id (Authorizations API); a new grant gets a new id. */
  readonly grantIds = new Map<string, number>();
  private nextGrantId = 1;
  private nextAccountId = 1;
  private nextAuthorizationId = 1;
  private nextInstallationId = 1;
  private nextRepositoryId = 1;

  /** @param version the release whose token format new tokens get (it may change at runtime). */
  constructor(
    private readonly version: () => GhesVersion = () => parseVersion('3.22') as GhesVersion,
  ) {}

  /** A new user token for an app of this kind, in the current release's format. */
  mintToken(kind: 'oauth_app' | 'github_app'): string {
    return newUserToken(kind, this.version());
  }

  addAccount(login: string, type: AccountType = 'User', id?: number): Account {
    if (this.accountByLogin(login)) throw new EmulatorInputError(`account ${login} exists`);
    const accountId = id ?? this.nextAccountId;
    if (this.accounts.has(accountId)) throw new EmulatorInputError(`account id ${accountId} taken`);
    this.nextAccountId = Math.max(this.nextAccountId, accountId + 1);
    const account: Account = { id: accountId, login, type, siteAdmin: false, members: new Set() };
    this.accounts.set(accountId, account);
    return account;
  }

  accountByLogin(login: string): Account | undefined {
    const wanted = login.toLowerCase();
    for (const account of this.accounts.values()) {
      if (account.login.toLowerCase() === wanted) return account;
    }
    return undefined;
  }

  addMember(orgLogin: string, userLogin: string): void {
    const org = this.accountByLogin(orgLogin);
    const user = this.accountByLogin(userLogin);
    if (!org || org.type !== 'Organization') throw new EmulatorInputError(`no org ${orgLogin}`);
    if (!user || user.type !== 'User') throw new EmulatorInputError(`no user ${userLogin}`);
    org.members.add(user.id);
  }

  addRepository(ownerLogin: string, name: string, id?: number): Repository {
    const owner = this.accountByLogin(ownerLogin);
    if (!owner) throw new EmulatorInputError(`no account ${ownerLogin}`);
    const repoId = id ?? this.nextRepositoryId;
    this.nextRepositoryId = Math.max(this.nextRepositoryId, repoId + 1);
    const repo: Repository = { id: repoId, name, ownerId: owner.id };
    this.repositories.set(repoId, repo);
    return repo;
  }

  addApp(input: NewApp): App {
    if (this.app(input.name)) throw new EmulatorInputError(`app ${input.name} exists`);
    const clientId =
      input.clientId ?? (input.kind === 'github_app' ? newGithubAppClientId() : newOauthClientId());
    if (this.apps.has(clientId)) throw new EmulatorInputError(`client id ${clientId} taken`);
    const app: App = {
      name: input.name,
      kind: input.kind,
      clientId,
      clientSecret: input.clientSecret ?? newClientSecret(),
      url: input.url ?? `https://example.com/${encodeURIComponent(input.name)}`,
      webhookSecret:
        input.kind === 'github_app' ? (input.webhookSecret ?? newClientSecret()) : null,
    };
    this.apps.set(clientId, app);
    return app;
  }

  /** By client id or by name. */
  app(ref: string): App | undefined {
    const byId = this.apps.get(ref);
    if (byId) return byId;
    for (const app of this.apps.values()) if (app.name === ref) return app;
    return undefined;
  }

  installApp(input: NewInstallation): Installation {
    const app = this.app(input.app);
    if (!app || app.kind !== 'github_app')
      throw new EmulatorInputError(`no GitHub App ${input.app}`);
    const account = this.accountByLogin(input.account);
    if (!account) throw new EmulatorInputError(`no account ${input.account}`);
    const repositoryIds = (input.repositories ?? []).map((name) => {
      const repo = this.repositoryByName(account.id, name);
      if (!repo) throw new EmulatorInputError(`no repository ${input.account}/${name}`);
      return repo.id;
    });
    const installation: Installation = {
      id: this.nextInstallationId++,
      clientId: app.clientId,
      accountId: account.id,
      permissions: { ...input.permissions },
      repositorySelection: input.repositories ? 'selected' : 'all',
      repositoryIds,
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  private repositoryByName(ownerId: number, name: string): Repository | undefined {
    const wanted = name.toLowerCase();
    for (const repo of this.repositories.values()) {
      if (repo.ownerId === ownerId && repo.name.toLowerCase() === wanted) return repo;
    }
    return undefined;
  }

  createToken(input: NewToken, now: number): TokenRecord {
    const app = this.app(input.app);
    if (!app) throw new EmulatorInputError(`no app ${input.app}`);
    const user = this.accountByLogin(input.login) ?? this.addAccount(input.login);
    if (user.type !== 'User') throw new EmulatorInputError(`${input.login} is not a user`);
    if (app.kind === 'github_app' && input.scopes && input.scopes.length > 0) {
      // GitHub-App user tokens carry fine-grained permissions, never OAuth scopes.
      throw new EmulatorInputError('GitHub App user tokens have no OAuth scopes');
    }
    if (input.token !== undefined && this.tokens.has(input.token)) {
      throw new EmulatorInputError('token value already in use');
    }
    const lifetime =
      input.expiresIn === undefined
        ? app.kind === 'github_app'
          ? GITHUB_APP_TOKEN_LIFETIME_SECONDS
          : null
        : input.expiresIn;
    if (lifetime !== null && !(Number.isInteger(lifetime) && lifetime > 0)) {
      throw new EmulatorInputError('expires_in must be a positive integer or null');
    }
    const record: TokenRecord = {
      id: this.nextAuthorizationId++,
      token: input.token ?? this.mintToken(app.kind),
      clientId: app.clientId,
      userId: user.id,
      scopes: [...(input.scopes ?? [])],
      note: input.note ?? null,
      noteUrl: input.noteUrl ?? null,
      fingerprint: input.fingerprint ?? null,
      createdAt: now,
      updatedAt: now,
      expiresAt: lifetime === null ? null : now + lifetime * 1000,
      lifetimeSeconds: lifetime,
      scope: null,
    };
    this.store(record, now);
    return record;
  }

  private store(record: TokenRecord, now: number): void {
    this.tokens.set(record.token, record);
    const key = grantKey(record.clientId, record.userId);
    if (!this.grants.has(key)) {
      this.grants.set(key, now);
      this.grantIds.set(key, this.nextGrantId++);
    }
  }

  /** The live token of this app, or undefined when unknown, revoked, expired or another app's. */
  activeToken(clientId: string, token: string, now: number): TokenRecord | undefined {
    const record = this.tokens.get(token);
    if (!record || record.clientId !== clientId) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= now) return undefined;
    return record;
  }

  /** Reset: a new token for the same authorization; the old one stops working at once. */
  resetToken(record: TokenRecord, now: number): TokenRecord {
    const app = this.apps.get(record.clientId);
    if (!app) throw new EmulatorInputError('token of a removed app');
    this.tokens.delete(record.token);
    record.token = this.mintToken(app.kind);
    record.updatedAt = now;
    if (record.lifetimeSeconds !== null) record.expiresAt = now + record.lifetimeSeconds * 1000;
    this.tokens.set(record.token, record);
    return record;
  }

  revokeToken(token: string): boolean {
    return this.tokens.delete(token);
  }

  /** Deleting the grant deletes every token of that user for that app, scoped ones included. */
  deleteGrant(clientId: string, userId: number): number {
    let removed = 0;
    for (const [token, record] of this.tokens) {
      if (record.clientId === clientId && record.userId === userId) {
        this.tokens.delete(token);
        removed++;
      }
    }
    this.grants.delete(grantKey(clientId, userId));
    this.grantIds.delete(grantKey(clientId, userId));
    return removed;
  }

  /**
   * Scoped token rules (GHES "Create a scoped access token"): only a non-scoped GitHub-App user
   * token can be scoped; `target`/`target_id` name the installation's account and must agree when
   * both are given; the user must be that account or a member of it; repositories must be
   * reachable by the installation; permissions may only narrow the installation's. The new token
   * keeps the parent's expiry and the parent stays valid.
   */
  scopeToken(parent: TokenRecord, request: ScopeRequest, now: number): TokenRecord {
    if (parent.scope !== null) {
      throw new ValidationFailure('access_token', 'invalid', 'The access token is already scoped.');
    }
    const target = this.resolveTarget(request);
    const user = this.accounts.get(parent.userId);
    const reachable =
      user !== undefined &&
      (target.id === user.id || (target.type === 'Organization' && target.members.has(user.id)));
    const installation = [...this.installations.values()].find(
      (i) => i.clientId === parent.clientId && i.accountId === target.id,
    );
    if (!installation || !reachable) {
      throw new ValidationFailure(
        request.target !== undefined ? 'target' : 'target_id',
        'invalid',
        'The target is not an installation of this GitHub App that the user can access.',
      );
    }
    const repositoryIds = this.resolveRepositories(installation, target, request);
    const permissions = request.permissions ?? installation.permissions;
    for (const [name, level] of Object.entries(permissions)) {
      if (!levelWithin(level, installation.permissions[name])) {
        throw new ValidationFailure(
          'permissions',
          'invalid',
          'The permissions requested are not granted to this installation.',
        );
      }
    }
    const narrowed = repositoryIds !== undefined;
    const record: TokenRecord = {
      id: this.nextAuthorizationId++,
      token: this.mintToken('github_app'),
      clientId: parent.clientId,
      userId: parent.userId,
      scopes: [],
      note: null,
      noteUrl: null,
      fingerprint: null,
      createdAt: now,
      updatedAt: now,
      expiresAt: parent.expiresAt,
      lifetimeSeconds: parent.lifetimeSeconds,
      scope: {
        installationId: installation.id,
        accountId: target.id,
        permissions: { ...permissions },
        repositorySelection: narrowed ? 'selected' : installation.repositorySelection,
        repositoryIds: narrowed ? repositoryIds : installation.repositoryIds,
      },
    };
    this.store(record, now);
    return record;
  }

  private resolveTarget(request: ScopeRequest): Account {
    const byLogin = request.target !== undefined ? this.accountByLogin(request.target) : undefined;
    const byId = request.targetId !== undefined ? this.accounts.get(request.targetId) : undefined;
    if (request.target !== undefined && !byLogin) {
      throw new ValidationFailure('target', 'invalid', `Target ${request.target} was not found.`);
    }
    if (request.targetId !== undefined && !byId) {
      throw new ValidationFailure(
        'target_id',
        'invalid',
        `Target id ${request.targetId} was not found.`,
      );
    }
    if (byLogin && byId && byLogin.id !== byId.id) {
      throw new ValidationFailure(
        'target_id',
        'invalid',
        'target and target_id name different accounts.',
      );
    }
    const target = byLogin ?? byId;
    if (!target)
      throw new ValidationFailure('target', 'missing_field', 'target or target_id is required.');
    return target;
  }

  private resolveRepositories(
    installation: Installation,
    target: Account,
    request: ScopeRequest,
  ): number[] | undefined {
    const wanted =
      request.repositories?.map((name) => this.repositoryByName(target.id, name)?.id) ??
      request.repositoryIds?.map((id) =>
        this.repositories.get(id)?.ownerId === target.id ? id : undefined,
      );
    if (wanted === undefined) return undefined;
    const ids: number[] = [];
    for (const id of wanted) {
      const inInstallation =
        id !== undefined &&
        (installation.repositorySelection === 'all' || installation.repositoryIds.includes(id));
      if (!inInstallation) {
        throw new ValidationFailure(
          request.repositories ? 'repositories' : 'repository_ids',
          'invalid',
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        );
      }
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  /** Forget everything (used before re-seeding). */
  clear(): void {
    this.accounts.clear();
    this.apps.clear();
    this.installations.clear();
    this.repositories.clear();
    this.tokens.clear();
    this.grants.clear();
    this.grantIds.clear();
    this.nextGrantId = 1;
    this.nextAccountId = 1;
    this.nextAuthorizationId = 1;
    this.nextInstallationId = 1;
    this.nextRepositoryId = 1;
  }
}

export function grantKey(clientId: string, userId: number): string {
  return `${clientId}:${userId}`;
}
