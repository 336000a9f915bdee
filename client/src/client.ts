/**
 * createGatewayClient(): the typed client. `api` is openapi-fetch over the generated `paths`, with
 * the caller JWT added per route (auth.ts); the methods beside it make the common calls one line,
 * return the answer's body and throw GatewayProblem / GatewayTransportError otherwise.
 * Calls go by path, never by operationId: paths are the document's stable part.
 */
import createClient, { type Client } from 'openapi-fetch';
import { bearer, callerJwtMiddleware, refuseTokenInUrl, type CallerJwt } from './auth.js';
import { failureFrom, GatewayTransportError } from './errors.js';
import type { paths } from './schema.gen.js';

export interface GatewayClientOptions {
  /** The gateway's origin, e.g. https://token-gateway.example.com (its PUBLIC_URL). */
  baseUrl: string;
  /** Returns the service's caller JWT (sync or async; may cache and refresh it). */
  callerJwt: CallerJwt;
  /** A fetch of your own (a service binding's `fetch`, a test gateway); globalThis.fetch if unset. */
  fetch?: (request: Request) => Promise<Response>;
}

/** Per call: an AbortSignal (e.g. `AbortSignal.timeout(5000)`); there is no default timeout. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** The JSON body of a 2xx answer of `path`'s `method`. */
export type AnswerOf<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends number = 200,
> = paths[P][M] extends { responses: { [K in S]: { content: { 'application/json': infer T } } } }
  ? T
  : never;

type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody: { content: { [media: string]: infer T } };
}
  ? T
  : never;

/** `POST /v1/apps/{app}/token/check`: who the token belongs to and what it may do. */
export type TokenCheck = AnswerOf<'/v1/apps/{app}/token/check', 'post'>;
/** `POST …/token/reset`: the new token (the old one is dead). */
export type TokenReset = AnswerOf<'/v1/apps/{app}/token/reset', 'post'>;
export type ScopedRequest = Body<'/v1/apps/{app}/token/scoped', 'post'>;
export type ScopedToken = AnswerOf<'/v1/apps/{app}/token/scoped', 'post'>;
export type OAuthToken = AnswerOf<'/v1/apps/{app}/oauth/token', 'post'>;
export type Introspection = AnswerOf<'/introspect', 'post'>;
export type IntrospectionRequest = Body<'/introspect', 'post'>;

/** An allowed forward-auth answer, from its X-Auth-* headers (docs/gateways.md). */
export interface ForwardAuthAllowed {
  user: string;
  userId: string;
  /** Granted scopes (empty for GitHub-App user tokens). */
  scopes: string[];
  /** The app that vouched for the token, and its client_id. */
  app: string;
  clientId: string;
  /** ISO 8601, only when the token expires. */
  tokenExpires: string | undefined;
}

/** openapi-fetch's outcome of one call. */
interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The body of a 2xx answer, or the failure thrown: a GatewayProblem for the gateway's problems,
 * a GatewayTransportError for the rest. Use it around any `api` call.
 */
export async function unwrap<T>(pending: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await pending;
  } catch (e) {
    // openapi-fetch parses a 2xx body as JSON; one that is not is not the gateway's answer.
    if (e instanceof SyntaxError)
      throw new GatewayTransportError('unexpected-response', 'the answer is not JSON', {
        cause: e,
      });
    throw e;
  }
  const { response } = outcome;
  if (response.status >= 200 && response.status < 300) return outcome.data as T;
  throw failureFrom(outcome.error, response);
}

export function createGatewayClient(options: GatewayClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  // fetch's rejections (network, abort) become GatewayTransportError, whichever path they take.
  const fetchOnce = async (request: Request): Promise<Response> => {
    try {
      return await send(request);
    } catch (e) {
      throw new GatewayTransportError('network', 'the gateway could not be reached', { cause: e });
    }
  };
  const api: Client<paths> = createClient<paths>({
    baseUrl,
    fetch: fetchOnce,
    // A redirect would carry the caller JWT (X-Gateway-Authorization is not dropped across
    // origins) somewhere else: none is followed; a 3xx is an unexpected answer.
    redirect: 'manual',
  });
  api.use(callerJwtMiddleware(options.callerJwt));

  const app = (name: string) => ({ params: { path: { app: name } } });

  return {
    /** The typed openapi-fetch client: every path of the document, caller JWT added. */
    api,

    /** Checks a user token (cached by the gateway). 404 `token-not-found` when GHES does not know it. */
    check: (appName: string, accessToken: string, call: CallOptions = {}): Promise<TokenCheck> =>
      unwrap(
        api.POST('/v1/apps/{app}/token/check', {
          ...app(appName),
          body: { access_token: accessToken },
          ...call,
        }),
      ),

    /** Resets a token: GHES issues a new one and the old one stops working. */
    reset: (appName: string, accessToken: string, call: CallOptions = {}): Promise<TokenReset> =>
      unwrap(
        api.POST('/v1/apps/{app}/token/reset', {
          ...app(appName),
          body: { access_token: accessToken },
          ...call,
        }),
      ),

    /** A GitHub-App user token narrowed to a target, repositories and permissions. */
    scoped: (
      appName: string,
      request: ScopedRequest,
      call: CallOptions = {},
    ): Promise<ScopedToken> =>
      unwrap(api.POST('/v1/apps/{app}/token/scoped', { ...app(appName), body: request, ...call })),

    /** Revokes one token. */
    deleteToken: (appName: string, accessToken: string, call: CallOptions = {}): Promise<void> =>
      unwrap(
        api.POST('/v1/apps/{app}/token/delete', {
          ...app(appName),
          body: { access_token: accessToken },
          ...call,
        }),
      ),

    /** Revokes the user's whole grant to the app (every token of it). */
    deleteGrant: (appName: string, accessToken: string, call: CallOptions = {}): Promise<void> =>
      unwrap(
        api.POST('/v1/apps/{app}/grant/delete', {
          ...app(appName),
          body: { access_token: accessToken },
          ...call,
        }),
      ),

    /** Exchanges an OAuth authorization code (the redirect URI must be in the caller's policy). */
    exchangeCode: (
      appName: string,
      grant: { code: string; redirect_uri: string; code_verifier?: string },
      call: CallOptions = {},
    ): Promise<OAuthToken> =>
      unwrap(
        api.POST('/v1/apps/{app}/oauth/token', {
          ...app(appName),
          body: { grant_type: 'authorization_code', ...grant },
          ...call,
        }),
      ),

    /** Refreshes an expiring GitHub-App user token. */
    refresh: (appName: string, refreshToken: string, call: CallOptions = {}): Promise<OAuthToken> =>
      unwrap(
        api.POST('/v1/apps/{app}/oauth/token', {
          ...app(appName),
          body: { grant_type: 'refresh_token', refresh_token: refreshToken },
          ...call,
        }),
      ),

    /**
     * RFC 7662 introspection: `{ active: false }` for a token that is not active (no throw).
     * The token goes in the form body, never the URL.
     */
    introspect: (
      token: string,
      params: Omit<IntrospectionRequest, 'token'> = {},
      call: CallOptions = {},
    ): Promise<Introspection> =>
      unwrap(
        api.POST('/introspect', {
          body: { ...params, token },
          bodySerializer: (body) => new URLSearchParams(formFields(body)),
          // The JSON answer (a signed RFC 9701 one is asked for with its own Accept).
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          ...call,
        }),
      ) as Promise<Introspection>,

    /**
     * Forward auth, as an API gateway asks it: the end user's token in `Authorization`, the caller
     * JWT in `X-Gateway-Authorization`. Throws GatewayProblem for a denial (401
     * `invalid-token`, 403 `insufficient-scope` with `missing_scopes`).
     */
    forwardAuth: async (
      token: string,
      params: { app?: string; scopes?: readonly string[] } = {},
      call: CallOptions = {},
    ): Promise<ForwardAuthAllowed> => {
      const query = new URLSearchParams();
      if (params.app !== undefined) query.set('app', params.app);
      for (const scope of params.scopes ?? []) query.append('scope', scope);
      const url = `${baseUrl}/forward-auth${query.size > 0 ? `?${query}` : ''}`;
      const jwt = await bearer(options.callerJwt);
      refuseTokenInUrl(url, jwt);
      const response = await fetchOnce(
        new Request(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, 'x-gateway-authorization': `Bearer ${jwt}` },
          redirect: 'manual',
          ...(call.signal !== undefined && { signal: call.signal }),
        }),
      );
      if (response.status !== 200) throw failureFrom(await jsonOrUndefined(response), response);
      const h = response.headers;
      const required = (name: string): string => {
        const value = h.get(name);
        if (value === null)
          throw new GatewayTransportError('unexpected-response', `200 without ${name}`, {
            response,
          });
        return value;
      };
      return {
        user: required('x-auth-user'),
        userId: required('x-auth-user-id'),
        scopes: required('x-auth-scopes')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
        app: required('x-auth-app'),
        clientId: required('x-auth-client-id'),
        tokenExpires: h.get('x-auth-token-expires') ?? undefined,
      };
    },
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

/** The string fields of a form body (RFC 7662 §2.1 is application/x-www-form-urlencoded). */
function formFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>))
    if (typeof v === 'string') out[k] = v;
  return out;
}

async function jsonOrUndefined(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text());
  } catch {
    return undefined;
  }
}
