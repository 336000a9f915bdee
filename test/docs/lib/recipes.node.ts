/**
 * Reading docs/recipes/ and docs/gateways.md for test/docs/recipes.node.ts, and the rules every
 * recipe must keep (docs/gateways.md, "Pin the app in the proxy"), as functions that return the
 * broken ones, so a test can show that a mutated copy breaks them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const RECIPES_DIR = 'docs/recipes';
export const GATEWAYS_MD = 'docs/gateways.md';
/** The app every recipe pins. */
export const RECIPE_APP = 'ci-oauth';

/** Header names matching `pattern` that the gateway's source sets or reads. */
function headerNames(root: string, files: readonly string[], pattern: RegExp): string[] {
  const names = new Set<string>();
  for (const file of files)
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(pattern))
      names.add(m[1] as string);
  return [...names].sort();
}

/**
 * The gateway's own request/response headers, read from its source so that a header added there
 * must be handled by every recipe: the X-Auth-* it answers with, and the X-Forward-Auth-* it
 * reads (lower case).
 */
export function gatewayHeaders(root: string): { auth: string[]; forwardAuth: string[] } {
  const files = ['src/introspection/forward-auth.ts', 'src/routes/forward-auth.ts'];
  return {
    auth: headerNames(root, files, /'(x-auth-[a-z-]+)'/g),
    forwardAuth: headerNames(root, files, /'(x-forward-auth-[a-z-]+)'/g),
  };
}

export function recipeFiles(root: string): string[] {
  return readdirSync(join(root, RECIPES_DIR)).sort();
}

export function readRecipe(root: string, name: string): string {
  return readFileSync(join(root, RECIPES_DIR, name), 'utf8');
}

export function parseYamlText(text: string): unknown {
  return parse(text, { strict: true, uniqueKeys: true }) as unknown;
}

export function parseYamlRecipe(root: string, name: string): unknown {
  return parseYamlText(readRecipe(root, name));
}

/** `<!-- recipe: docs/recipes/x -->` then a fenced block: path → the block's text. */
export function quotedRecipes(markdown: string): Map<string, string[]> {
  const quoted = new Map<string, string[]>();
  const marker = /<!-- recipe: (\S+) -->\n\n```[a-z]*\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(marker)) {
    const path = m[1] as string;
    quoted.set(path, [...(quoted.get(path) ?? []), m[2] as string]);
  }
  return quoted;
}

// ---- the rules, per proxy. Header names compare case-insensitively (HTTP).

type Obj = Record<string, unknown>;
const lc = (s: unknown) => String(s).toLowerCase();
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

function appOf(url: string): string[] {
  return new URL(url, 'https://x.invalid').searchParams.getAll('app');
}

export interface Headers {
  auth: string[];
  forwardAuth: string[];
}

/** Envoy: header_mutation before ext_authz removes every gateway header; the app is added by Envoy. */
export function envoyRules(config: unknown, h: Headers): string[] {
  const broken: string[] = [];
  const listeners = asList(asObj(asObj(config)['static_resources'])['listeners']);
  const filters = listeners.flatMap((l) =>
    asList(asObj(l)['filter_chains']).flatMap((c) => asList(asObj(c)['filters'])),
  );
  const hcms = filters.map((f) => asObj(asObj(f)['typed_config']));
  const chains = hcms.map((hcm) => asList(hcm['http_filters']).map(asObj));
  const withAuthz = chains.filter((chain) =>
    chain.some((f) => f['name'] === 'envoy.filters.http.ext_authz'),
  );
  if (withAuthz.length === 0) broken.push('no http_filters chain has envoy.filters.http.ext_authz');
  for (const chain of withAuthz) {
    const authzAt = chain.findIndex((f) => f['name'] === 'envoy.filters.http.ext_authz');
    const removed = new Set(
      chain
        .slice(0, authzAt)
        .filter((f) => f['name'] === 'envoy.filters.http.header_mutation')
        .flatMap((f) =>
          asList(asObj(asObj(f['typed_config'])['mutations'])['request_mutations']).map((m) =>
            lc(asObj(m)['remove']),
          ),
        ),
    );
    for (const name of [...h.auth, ...h.forwardAuth])
      if (!removed.has(name)) broken.push(`${name} is not removed before ext_authz`);
    const authz = asObj(asObj(chain[authzAt])['typed_config']);
    if (authz['failure_mode_allow'] !== false) broken.push('failure_mode_allow is not false');
    const service = asObj(authz['http_service']);
    const request = asObj(service['authorization_request']);
    const allowed = [
      ...asList(asObj(request['allowed_headers'])['patterns']),
      ...asList(asObj(authz['allowed_headers'])['patterns']),
    ].map(asObj);
    for (const p of allowed)
      for (const name of h.forwardAuth)
        if (
          lc(p['exact']) === name ||
          (typeof p['prefix'] === 'string' && name.startsWith(lc(p['prefix'])))
        )
          broken.push(`allowed_headers forwards the client's ${name}`);
    const added = asList(request['headers_to_add']).map(asObj);
    const app = added.filter((a) => lc(a['key']) === 'x-forward-auth-app').map((a) => a['value']);
    if (app.length !== 1 || app[0] !== RECIPE_APP)
      broken.push(`headers_to_add does not set x-forward-auth-app: ${RECIPE_APP} once`);
    if (String(service['path_prefix']).includes('?'))
      broken.push('path_prefix has a query: Envoy appends the client path after it');
  }
  return broken;
}

/** Traefik: the address pins the app; client X-Forward-Auth-* emptied first; X-Auth-* replaced. */
export function traefikRules(config: unknown, h: Headers): string[] {
  const broken: string[] = [];
  const http = asObj(asObj(config)['http']);
  const middlewares = asObj(http['middlewares']);
  const routers = Object.values(asObj(http['routers'])).map(asObj);
  if (routers.length === 0) broken.push('no router');
  for (const router of routers) {
    const chain = asList(router['middlewares']).map((name) => ({
      name: String(name),
      m: asObj(middlewares[String(name)]),
    }));
    const at = chain.findIndex(({ m }) => 'forwardAuth' in m);
    if (at < 0) {
      broken.push(`router ${String(router['rule'])} has no forwardAuth middleware`);
      continue;
    }
    const fa = asObj(chain[at]?.m['forwardAuth']);
    const apps = appOf(String(fa['address']));
    if (apps.length !== 1 || apps[0] !== RECIPE_APP)
      broken.push(`forwardAuth address does not pin app=${RECIPE_APP}`);
    if (fa['trustForwardHeader'] !== false) broken.push('trustForwardHeader is not false');
    const requestHeaders = asList(fa['authRequestHeaders']).map(lc);
    if (requestHeaders.length === 0) broken.push('no authRequestHeaders: every header is sent');
    for (const name of requestHeaders)
      if (name.startsWith('x-forward-auth-') || name.startsWith('x-auth-'))
        broken.push(`authRequestHeaders sends the client's ${name}`);
    // Traefik strips and copies headers whose canonical name matches (Go's CanonicalHeaderKey).
    const canonical = (n: string) =>
      n.replace(/(^|-)([a-z])/g, (_, d, c: string) => d + c.toUpperCase());
    const regex =
      typeof fa['authResponseHeadersRegex'] === 'string'
        ? new RegExp(fa['authResponseHeadersRegex'])
        : undefined;
    const listed = asList(fa['authResponseHeaders']).map(lc);
    for (const name of [...h.auth, 'x-auth-anything-a-client-invents'])
      if (!(regex?.test(canonical(name)) ?? false) && !listed.includes(name))
        broken.push(`${name} is neither matched by authResponseHeadersRegex nor listed`);
    const before = chain
      .slice(0, at)
      .map(({ m }) => asObj(asObj(m['headers'])['customRequestHeaders']));
    for (const name of h.forwardAuth)
      if (!before.some((set) => Object.entries(set).some(([k, v]) => lc(k) === name && v === '')))
        broken.push(`${name} is not emptied before forwardAuth`);
    const after = chain
      .slice(at + 1)
      .map(({ m }) => asObj(asObj(m['headers'])['customRequestHeaders']));
    if (!after.some((set) => set['X-Gateway-Authorization'] === ''))
      broken.push('X-Gateway-Authorization is not removed after forwardAuth');
  }
  return broken;
}

/** Kong: request-transformer ordered before introspection removes the gateway headers. */
export function kongRules(config: unknown, h: Headers): string[] {
  const broken: string[] = [];
  const plugins = asList(asObj(config)['plugins']).map(asObj);
  const introspection = plugins.find((p) => p['name'] === 'oauth2-introspection');
  if (introspection === undefined) return ['no oauth2-introspection plugin'];
  const config_ = asObj(introspection['config']);
  const url = new URL(String(config_['introspection_url']));
  if (url.pathname !== '/introspect' || url.search !== '')
    broken.push('introspection_url is not /introspect without a query');
  if ('custom_introspection_headers' in config_ || config_['introspect_request'] === true)
    broken.push('the introspection request carries more than the token');
  if (config_['hide_credentials'] !== true) broken.push('hide_credentials is not true');
  const strip = plugins.find(
    (p) =>
      p['name'] === 'request-transformer' &&
      p['route'] === introspection['route'] &&
      asList(asObj(asObj(p['ordering'])['before'])['access']).includes('oauth2-introspection'),
  );
  if (strip === undefined)
    return [...broken, 'no request-transformer on the route ordered before oauth2-introspection'];
  const removed = asList(asObj(asObj(strip['config'])['remove'])['headers']).map(lc);
  for (const name of [...h.auth, ...h.forwardAuth])
    if (!removed.includes(name)) broken.push(`${name} is not removed`);
  return broken;
}

/** Directive lines of a Caddyfile or nginx config: comments and blank lines dropped, trimmed. */
function directiveLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Caddy: inside `route`, client X-Auth-* / X-Forward-Auth-* removed before forward_auth; the
 * uri and header_up pin the app; each copied header has a 2.6 placeholder guard after it.
 */
export function caddyRules(text: string, h: Headers): string[] {
  const broken: string[] = [];
  const lines = directiveLines(text);
  const routeAt = lines.indexOf('route {');
  const authAt = lines.findIndex((l) => l.startsWith('forward_auth '));
  const proxyAt = lines.findIndex((l) => l.startsWith('reverse_proxy '));
  if (routeAt < 0 || authAt < routeAt) return ['forward_auth is not inside a route block'];
  const before = lines.slice(routeAt, authAt);
  for (const prefix of ['X-Auth-', 'X-Forward-Auth-'])
    if (!before.includes(`request_header -${prefix}*`))
      broken.push(`request_header -${prefix}* does not come before forward_auth`);
  const authEnd = lines.indexOf('}', authAt);
  const auth = lines.slice(authAt + 1, authEnd);
  const uri = auth.find((l) => l.startsWith('uri '));
  const apps = uri === undefined ? [] : appOf(uri.slice(4));
  if (apps.length !== 1 || apps[0] !== RECIPE_APP)
    broken.push(`uri does not pin app=${RECIPE_APP}`);
  if (!auth.includes(`header_up X-Forward-Auth-App ${RECIPE_APP}`))
    broken.push(`no header_up X-Forward-Auth-App ${RECIPE_APP}`);
  const copied = (auth.find((l) => l.startsWith('copy_headers ')) ?? '').split(/\s+/).slice(1);
  for (const name of h.auth)
    if (!copied.some((c) => lc(c) === name)) broken.push(`copy_headers lacks ${name}`);
  const guardsAfter = lines.slice(authEnd, proxyAt < 0 ? undefined : proxyAt);
  for (const name of copied) {
    const matcher = lines
      .map((l) => /^(@\S+) header_regexp (\S+) \^\\\{http\\\.reverse_proxy\\\.header\\\.$/.exec(l))
      .find((m) => m !== null && m[2] === name)?.[1];
    if (matcher === undefined || !guardsAfter.includes(`request_header ${matcher} -${name}`))
      broken.push(`no placeholder guard removes an unset ${name} after forward_auth`);
  }
  if (proxyAt < authEnd) broken.push('reverse_proxy does not come after forward_auth');
  return broken;
}

/**
 * nginx: the auth location pins the app in the URL and header; the upstream location sets (or
 * empties) every gateway header by name.
 */
export function nginxRules(text: string, h: Headers): string[] {
  const broken: string[] = [];
  const lines = directiveLines(text);
  const authAt = lines.findIndex((l) => /^location = \S+ \{$/.test(l));
  const mainAt = lines.indexOf('location / {');
  if (authAt < 0 || mainAt < 0) return ['no "location /" and "location = …" auth location'];
  const block = (at: number) => lines.slice(at + 1, lines.indexOf('}', at));
  const auth = block(authAt);
  const pass = auth.find((l) => l.startsWith('proxy_pass '));
  const apps = pass === undefined ? [] : appOf(pass.slice(11).replace(/;$/, ''));
  if (apps.length !== 1 || apps[0] !== RECIPE_APP)
    broken.push(`the auth proxy_pass does not pin app=${RECIPE_APP}`);
  if (
    !auth.some((l) =>
      new RegExp(`^proxy_set_header X-Forward-Auth-App ${RECIPE_APP};$`, 'i').test(l),
    )
  )
    broken.push(`the auth location does not set X-Forward-Auth-App ${RECIPE_APP}`);
  const main = block(mainAt);
  for (const name of [...h.auth, ...h.forwardAuth]) {
    const set = main.find((l) => lc(l).startsWith(`proxy_set_header ${name} `));
    const value = set?.split(/\s+/)[2]?.replace(/;$/, '');
    const fromGateway = value !== undefined && value.startsWith('$auth_');
    if (!fromGateway && value !== '""')
      broken.push(`the upstream location does not replace or empty ${name}`);
    if (h.forwardAuth.includes(name) && value !== '""')
      broken.push(`the upstream location passes ${name} on`);
  }
  return broken;
}

/**
 * Caddyfile directives (https://caddyserver.com/docs/caddyfile/directives, as of 2.6) and the
 * subdirectives forward_auth takes: its own and reverse_proxy's
 * (https://caddyserver.com/docs/caddyfile/directives/forward_auth,
 * https://caddyserver.com/docs/caddyfile/directives/reverse_proxy).
 */
const CADDY_DIRECTIVES = new Set(
  (
    'abort acme_server basicauth bind encode error file_server forward_auth handle handle_errors ' +
    'handle_path header import log map method metrics php_fastcgi push redir request_body ' +
    'request_header respond reverse_proxy rewrite root route skip_log templates tls tracing ' +
    'try_files uri vars'
  ).split(' '),
);
const FORWARD_AUTH_SUBDIRECTIVES = new Set(
  (
    'uri copy_headers to dynamic lb_policy lb_retries lb_try_duration lb_try_interval ' +
    'lb_retry_match health_uri health_port health_interval health_timeout health_status ' +
    'health_body health_headers fail_duration max_fails unhealthy_status unhealthy_latency ' +
    'unhealthy_request_count flush_interval request_buffers response_buffers stream_timeout ' +
    'stream_close_delay trusted_proxies header_up header_down method rewrite replace_status ' +
    'handle_response transport'
  ).split(' '),
);

/** Directives (in the site block) and forward_auth subdirectives Caddy does not document. */
export function caddyUnknownDirectives(text: string): string[] {
  const unknown: string[] = [];
  const stack: string[] = [];
  for (const line of directiveLines(text)) {
    const word = line.split(/\s+/)[0] as string;
    if (line === '}') {
      stack.pop();
      continue;
    }
    const inside = stack.at(-1);
    // Depth 0: the site address; named matcher definitions are not directives.
    if (inside !== undefined && !word.startsWith('@')) {
      if (inside === 'forward_auth') {
        if (!FORWARD_AUTH_SUBDIRECTIVES.has(word)) unknown.push(`forward_auth: ${word}`);
      } else if (!CADDY_DIRECTIVES.has(word)) unknown.push(word);
    }
    if (line.endsWith('{')) stack.push(inside === undefined ? 'site' : word);
  }
  return unknown;
}
