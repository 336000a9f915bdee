/**
 * Rules for the URLs the gateway calls or publishes, and for template placeholders left in vars.
 * Messages name the var and what is wrong, never its value.
 */
import * as v from 'valibot';

/**
 * Loopback hosts as the WHATWG URL parser writes them (it canonicalises names and IP literals,
 * so `0x7f.1` arrives as `127.0.0.1`): `localhost`, 127.0.0.0/8 and `[::1]`. Nothing else:
 * `localhost.evil.com` and `127.0.0.1.nip.io` are names anyone can point anywhere.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  const quad = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return quad !== null && quad.slice(1).every((o) => Number(o) <= 255);
}

/**
 * A URL the gateway calls or publishes (GHES, the caller JWKS, its own public URL). Plain
 * `http://` would let anyone on the path read secrets and tokens or swap the caller keys, so only
 * `https:`, and `http:` on loopback (local development). No userinfo: fetch would send it as
 * Basic credentials, and it would be logged or published with the URL.
 */
export function secureUrl(options: { issuer?: boolean } = {}) {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const value = dataset.value;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        addIssue({ message: 'is not a valid URL' });
        return;
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
        addIssue({
          message: 'must be an https:// URL (http:// only for localhost, 127.0.0.0/8 or [::1])',
        });
      else if (url.username !== '' || url.password !== '')
        addIssue({ message: 'must not carry a user name or password' });
      // RFC 8414 §2: the issuer has no query or fragment (an empty `?` or `#` counts too).
      else if (options.issuer === true && /[?#]/.test(value))
        addIssue({ message: 'must have no query or fragment (it is the issuer)' });
    }),
  );
}

/**
 * Cloudflare Access team domain as `https://<team>.cloudflareaccess.com` (the `iss` of Access
 * JWTs); the bare host name is accepted too.
 */
export const accessTeamDomainSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
    let url: URL | undefined;
    try {
      url = new URL(candidate);
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      url.protocol !== 'https:' ||
      url.pathname !== '/' ||
      url.search !== '' ||
      url.hash !== '' ||
      url.username !== '' ||
      url.password !== '' ||
      url.port !== ''
    ) {
      addIssue({ message: 'must be the team domain, e.g. https://myteam.cloudflareaccess.com' });
      return NEVER;
    }
    return url.origin;
  }),
);

/**
 * What wrangler.toml's [env.*] templates ship with and a deploy must replace: `REPLACE_WITH_…`
 * (and `REPLACE_ME` / `CHANGE_ME`), and the placeholder domain `example.internal`. A template
 * deployed as it is then answers `misconfigured` instead of calling a made-up GHES.
 */
const PLACEHOLDERS: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /REPLACE[_-]?(?:WITH|ME)|CHANGE[_-]?ME/i, what: 'a REPLACE_WITH_… placeholder' },
  {
    pattern: /(?:^|[^a-z0-9-])example\.internal(?![a-z0-9-]|\.[a-z0-9])/i,
    what: 'the placeholder domain example.internal',
  },
];

/** One message per var or secret that still holds a placeholder. */
export function placeholderErrors(env: Record<string, unknown>): string[] {
  const errors: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    let text: string | undefined;
    if (typeof value === 'string') text = value;
    else if (
      Array.isArray(value) ||
      (typeof value === 'object' &&
        value !== null &&
        Object.getPrototypeOf(value) === Object.prototype)
    ) {
      // A TOML table or array (APPS, CALLER_POLICY written as tables).
      try {
        text = JSON.stringify(value);
      } catch {
        text = undefined;
      }
    }
    if (text === undefined) continue;
    const hit = PLACEHOLDERS.find((p) => p.pattern.test(text));
    if (hit !== undefined)
      errors.push(
        `${name}: still holds ${hit.what} from the wrangler.toml template; set the real value`,
      );
  }
  return errors;
}
