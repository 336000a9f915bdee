/**
 * Caller authentication (the trust boundary of every internal endpoint). Three credential sources,
 * tried in order; the first one PRESENT decides and its failure is final (401, RFC 6750 §3):
 * 1. a caller JWT, `Authorization: Bearer` (or `X-Gateway-Authorization` where `Authorization`
 *    carries the end user's GitHub token), verified per RFC 8725 (src/auth/caller-jwt.ts);
 * 2. Cloudflare Access, `Cf-Access-Jwt-Assertion`, when configured (src/auth/access.ts);
 * 3. an mTLS client certificate, `request.cf.tlsClientAuth`, when configured (src/auth/mtls.ts).
 * The explicit credential beats the ambient ones, and there is no fallback: an invalid Bearer
 * token must not be rescued by the host's ambient identity and run as another `sub`. Whatever the
 * source, the `sub` must have a CALLER_POLICY entry, else 403.
 */
import type { MiddlewareHandler } from 'hono';
import { errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import type { AccessConfig, GatewayConfig, MtlsConfig } from '../config/types';
import { ConfigurationError, GatewayError, isGatewayError } from '../lib/errors';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { ACCESS_ASSERTION_HEADER, createAccessVerifier } from './access';
import type { Caller, CallerAuthVariables, CallerCredentialHeader, CallerSource } from './caller';
import { createCallerVerifier, type CallerJwtOptions } from './caller-jwt';
import { invalidToken, missingCredentials } from './credential-errors';
import { resolveMtlsCaller } from './mtls';

export type { CallerAuthVariables } from './caller';

export interface CallerAuthOptions extends CallerJwtOptions {
  /** Where the Bearer credential is read from. Default `authorization`. */
  header?: CallerCredentialHeader;
  log: Logger;
  /** Cloudflare Access as second identity source; off when undefined. */
  access?: { config: AccessConfig; keySet: JWTVerifyGetKey } | undefined;
  /** mTLS client certificates as third identity source; off when undefined. */
  mtls?: MtlsConfig | undefined;
  /** LOCAL_DEV: a missing or expired caller JWT's 401 says how to get a fresh dev token. */
  localDev?: boolean | undefined;
}

/** Where a local developer gets a caller JWT (scripts/caller-token.ts). */
export const LOCAL_DEV_TOKEN_HINT =
  'Local dev: `npm run -s caller-token` prints a fresh caller token (valid 1 hour).';

/**
 * In local dev, the 401s a fresh dev token cures (none sent, or expired) name the command that
 * makes one. Never outside LOCAL_DEV: a deployed gateway's callers get tokens from their issuer.
 */
function withDevHint(e: GatewayError, source: CallerSource | 'none'): GatewayError {
  const expired = e.cause instanceof joseErrors.JWTExpired;
  if (e.code !== 'unauthorized' || !(source === 'none' || (source === 'jwt' && expired))) return e;
  return new GatewayError(e.code, {
    detail: `${e.detail ?? 'Bearer credentials required.'} ${LOCAL_DEV_TOKEN_HINT}`,
    ...(e.reason !== undefined && { reason: e.reason }),
    headers: e.headers,
    cause: e.cause,
  });
}

/** RFC 6750 §2.1 `b64token` after the case-insensitive scheme (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/** The options of the middleware itself; the JWT options are checked by `createCallerVerifier`. */
function checkOptions(o: CallerAuthOptions): void {
  const fail = (msg: string): never => {
    throw new ConfigurationError('callerAuth', msg);
  };
  if (
    o.header !== undefined &&
    o.header !== 'authorization' &&
    o.header !== 'x-gateway-authorization'
  )
    fail('"header" must be "authorization" or "x-gateway-authorization"');
  if (typeof o.log !== 'function') fail('"log" must be a Logger');
  if (o.access !== undefined) {
    const { config, keySet } = o.access;
    if (typeof config?.teamDomain !== 'string' || !config.teamDomain.startsWith('https://'))
      fail('"access.config.teamDomain" must be an https origin');
    if (!Array.isArray(config.audience) || config.audience.length === 0)
      fail('"access.config.audience" must list at least one AUD tag');
    if (typeof config.subjects !== 'object' || config.subjects === null)
      fail('"access.config.subjects" must be an object');
    if (typeof keySet !== 'function')
      fail('"access.keySet" must be a key resolver (createAccessKeySet)');
  }
  if (o.mtls !== undefined && !(o.mtls.callers instanceof Map))
    fail('"mtls.callers" must be a Map of fingerprint to sub');
}

/** Non-blank header value, or undefined. */
function present(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  return value === null || value.trim() === '' ? undefined : value;
}

/** The middleware, and the synchronous lookup the hot paths use before it (src/routes/lean.ts). */
export type CallerAuthMiddleware = MiddlewareHandler<{ Variables: CallerAuthVariables }> & {
  /**
   * The caller the middleware would set for a request with these headers, when its Bearer
   * credential decides and was verified earlier and is still remembered (src/auth/caller-jwt.ts);
   * undefined whenever the middleware would do more (verify, Access, mTLS, or fail). Logs nothing.
   */
  rememberedCaller(headers: Headers): Caller | undefined;
};

/**
 * Checks its options once (throws `ConfigurationError`), then returns a middleware that sets
 * `c.var.caller` or throws `GatewayError`.
 */
export function callerAuth(options: CallerAuthOptions): CallerAuthMiddleware {
  checkOptions(options);
  const verify = createCallerVerifier(options);
  const headerName = options.header ?? 'authorization';
  const { log, mtls, policy } = options;
  const verifyAccess =
    options.access === undefined
      ? undefined
      : createAccessVerifier({
          config: options.access.config,
          keySet: options.access.keySet,
          clockToleranceS: options.clockToleranceS,
          policy,
          now: options.now ?? Date.now,
        });

  const middleware: MiddlewareHandler<{ Variables: CallerAuthVariables }> =
    async function callerAuthMiddleware(c, next) {
      let caller: Caller;
      // Which source decided, for the failure log ('none': no credential of any kind).
      let source: CallerSource | 'none' = 'jwt';
      try {
        const headers = c.req.raw.headers;
        const credentials = present(headers, headerName);
        const assertion =
          verifyAccess === undefined ? undefined : present(headers, ACCESS_ASSERTION_HEADER);
        if (credentials !== undefined) {
          // The common case first: one regex on the hot path, diagnosis only when it fails.
          const match = BEARER.exec(credentials);
          if (match === null) {
            if (!BEARER_SCHEME.test(credentials))
              throw missingCredentials(`${headerName} header does not use the Bearer scheme`);
            throw invalidToken(
              'malformed bearer credentials',
              `${headerName} header is not "Bearer <token>"`,
            );
          }
          caller = await verify(match[1] as string);
        } else if (verifyAccess !== undefined && assertion !== undefined) {
          source = 'access';
          caller = await verifyAccess(assertion.trim());
        } else {
          source = 'mtls';
          const viaCertificate =
            mtls === undefined ? undefined : resolveMtlsCaller(c.req.raw.cf, mtls, policy);
          if (viaCertificate === undefined) {
            source = 'none';
            throw missingCredentials(`no ${headerName} header`);
          }
          caller = viaCertificate;
        }
      } catch (e) {
        if (!isGatewayError(e)) throw e;
        log({ level: 'info', event: 'caller.auth_failed', source, code: e.code, reason: e.reason });
        throw options.localDev === true ? withDevHint(e, source) : e;
      }
      c.set('caller', caller);
      await next();
    };
  return Object.assign(middleware, {
    rememberedCaller(headers: Headers): Caller | undefined {
      // As the middleware decides: a present credential header is the source, in Bearer form.
      const credentials = present(headers, headerName);
      const match = credentials === undefined ? null : BEARER.exec(credentials);
      return match === null ? undefined : verify.remembered(match[1] as string);
    },
  });
}

/** What `callerAuthOptions` needs; `GatewayDeps` (src/app.ts) has all of it. */
export interface CallerAuthDeps {
  config: { caller: GatewayConfig['caller']; localDev?: boolean };
  callerKeySet: JWTVerifyGetKey;
  /** Built by `createAccessKeySet` when Access is configured (one per isolate). */
  accessKeySet?: JWTVerifyGetKey | undefined;
  log: Logger;
  clock: Pick<Clock, 'now'>;
}

/**
 * The options every route group passes to `callerAuth`, from the parsed config, so that a new
 * identity source reaches every route at once. Throws when Access is configured but its key set
 * was not built (a wiring error; the gateway then answers `misconfigured`).
 */
export function callerAuthOptions(
  deps: CallerAuthDeps,
  header: CallerCredentialHeader = 'authorization',
): CallerAuthOptions {
  const caller = deps.config.caller;
  if (caller.access !== undefined && deps.accessKeySet === undefined)
    throw new ConfigurationError(
      'callerAuth',
      'Cloudflare Access is configured but no Access key set was built',
    );
  return {
    issuer: caller.issuer,
    audience: caller.audience,
    algorithms: caller.algorithms,
    keySet: deps.callerKeySet,
    clockToleranceS: caller.clockToleranceS,
    maxTokenAgeS: caller.maxTokenAgeS,
    header,
    policy: caller.policy,
    log: deps.log,
    now: () => deps.clock.now(),
    access:
      caller.access === undefined || deps.accessKeySet === undefined
        ? undefined
        : { config: caller.access, keySet: deps.accessKeySet },
    mtls: caller.mtls,
    localDev: deps.config.localDev === true,
  };
}
