/**
 * Refuses a credential in the query string, on every route: 400 `token-in-query`, never ignored.
 * A query string reaches access logs, proxies, browser history and Referer headers, so a token
 * sent there is exposed whatever the gateway does next; answering as if nothing happened would
 * teach callers that it works. GitHub itself stopped accepting `?access_token=` for this reason.
 *
 * Refused: a parameter named like a credential (`access_token`, `token`, …) with a value, and any
 * parameter whose name or value is credential-shaped (src/lib/secret-shaped.ts). Forward auth's
 * `?app=` and `?scope=` pass. The answer names the parameter (unless the name itself looks like a
 * secret) and never the value; the audit line logs the route pattern, never the URL.
 */
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../lib/errors';
import { echoable, looksSecret } from '../lib/secret-shaped';

/** Parameter names that carry credentials (compared lower-case, `-` read as `_`). */
const CREDENTIAL_NAMES: ReadonlySet<string> = new Set([
  'access_token',
  'token',
  'refresh_token',
  'id_token',
  'private_token',
  'client_secret',
  'api_key',
  'apikey',
  'password',
]);

/** The first query parameter that carries a credential, or undefined. */
export function credentialParameter(search: URLSearchParams): string | undefined {
  for (const [name, value] of search) {
    const normalized = name.toLowerCase().replace(/-/g, '_');
    if (
      (CREDENTIAL_NAMES.has(normalized) && value !== '') ||
      looksSecret(name) ||
      looksSecret(value)
    )
      return name;
  }
  return undefined;
}

/**
 * A raw query string that certainly carries no credential, judged without parsing it: with no
 * `%`, decoding only turns `+` into a space, which none of the shapes contains, so a credential
 * shape or name in a parameter would show in the raw text too. Anything else is parsed.
 */
const CREDENTIAL_NAME =
  /(?:^|&)(?:access[_-]token|token|refresh[_-]token|id[_-]token|private[_-]token|client[_-]secret|api[_-]key|apikey|password)=[^&]/i;
export function plainlyClean(query: string): boolean {
  return !query.includes('%') && !looksSecret(query) && !CREDENTIAL_NAME.test(query);
}

/** A URL's query string, without `?` or fragment; '' when it has none. */
export function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : (url.slice(at + 1).split('#')[0] ?? '');
}

export function refuseTokenInQuery(): MiddlewareHandler {
  return async function tokenInQuery(c, next) {
    const url = c.req.url;
    // The common cases — no query, or a plain one like forward auth's `?app=` — parse nothing.
    const query = queryOf(url);
    if (query !== '' && !plainlyClean(query)) {
      const name = credentialParameter(new URL(url).searchParams);
      if (name !== undefined)
        throw new GatewayError('token-in-query', {
          detail: `The query parameter ${JSON.stringify(echoable(name, 40))} carries a credential. Query strings end up in access logs and proxies: consider that token exposed and revoke or reset it. Send tokens in the JSON body or in the Authorization header.`,
          reason: 'credential-shaped query parameter',
        });
    }
    await next();
  };
}
