/**
 * A throwaway nginx (the system's binary, e.g. Debian's package that scripts/test-e2e.sh installs)
 * with `auth_request` locations in front of an upstream, asking the gateway's /forward-auth.
 * Everything it writes (config, pid, access log, temp files) lives in one temporary folder; it runs
 * in the foreground (`daemon off`) as a child of the test, listens on 127.0.0.1 only and logs
 * errors to stderr, which the test keeps for diagnostics.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { superviseProxy, tail, type RunningProxy } from './harness.node.js';

/** Directories root's PATH has and a CI user's PATH may lack. */
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function findNginx(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    const candidate = join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface NginxBuild {
  bin: string;
  version: string;
  /** `*_temp_path` directives this build knows, each pointed into the run's folder. */
  tempPathDirectives: string[];
}

/**
 * Reads `nginx -V`. The build must have auth_request (Debian's packages do). Temp paths are
 * compiled in as absolute paths under /var/lib/nginx, so each one the build knows is redirected;
 * a module built `--without-…` has no directive to set.
 */
export function inspectNginx(bin: string): NginxBuild {
  const out = spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 5_000 });
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
  const version = /nginx version: nginx\/(\S+)/.exec(text)?.[1];
  if (out.status !== 0 || version === undefined)
    throw new Error(`${bin} -V failed: ${text.trim() || String(out.error ?? out.status)}`);
  if (!text.includes('--with-http_auth_request_module'))
    throw new Error(`${bin} (nginx ${version}) was built without the auth_request module`);
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  // `-e` (the startup error log) arrived in 1.19.5.
  if (major * 1_000_000 + minor * 1_000 + patch < 1_019_005)
    throw new Error(`nginx ${version} is too old; 1.19.5 or later is needed`);
  const tempPathDirectives = ['client_body_temp_path', 'proxy_temp_path'];
  for (const module of ['fastcgi', 'uwsgi', 'scgi']) {
    if (!text.includes(`--without-http_${module}_module`))
      tempPathDirectives.push(`${module}_temp_path`);
  }
  return { bin, version, tempPathDirectives };
}

/** One `auth_request`-protected location. */
export interface ProtectedLocation {
  /** nginx prefix location, e.g. `/` or `/admin/`. */
  path: string;
  /** Scopes the gateway must find on the token (`?scope=`, repeatable). */
  scopes: readonly string[];
}

export interface NginxConfigOptions {
  dir: string;
  port: number;
  build: NginxBuild;
  upstreamPort: number;
  gatewayPort: number;
  /** App the gateway checks tokens with (`?app=`). */
  app: string;
  /** The API gateway's own credential for the gateway (`X-Gateway-Authorization`). */
  callerJwt: string;
  locations: readonly ProtectedLocation[];
}

/**
 * The config under test, shaped like the one docs/gateways.md gives operators: each protected
 * location asks an internal location that proxies to /forward-auth without the request body, with
 * the end user's `Authorization` passed on as is (nginx forwards request headers to subrequests),
 * and hands `X-Auth-User` to the upstream as `X-User`. `proxy_set_header X-User` also replaces
 * any `X-User` the client sent, and sends none when the variable is empty.
 */
export function renderNginxConfig(o: NginxConfigOptions): string {
  const temp = o.build.tempPathDirectives
    .map((d) => `    ${d} ${join(o.dir, d.replace(/_temp_path$/, ''))};`)
    .join('\n');
  const protectedBlocks = o.locations.map((loc, i) => {
    const query = new URLSearchParams([['app', o.app], ...loc.scopes.map((s) => ['scope', s])]);
    const authPath = `/_auth_${i}`;
    return `
        location ${loc.path} {
            auth_request ${authPath};
            auth_request_set $auth_user $upstream_http_x_auth_user;
            proxy_set_header X-User $auth_user;
            proxy_pass http://127.0.0.1:${o.upstreamPort};
        }

        location = ${authPath} {
            internal;
            proxy_pass http://127.0.0.1:${o.gatewayPort}/forward-auth?${query.toString()};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Gateway-Authorization "Bearer ${o.callerJwt}";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_connect_timeout 2s;
            proxy_read_timeout 10s;
        }`;
  });
  return `# Generated by test/e2e/lib/nginx.node.ts for one end-to-end run.
daemon off;
master_process on;
worker_processes 1;
pid ${join(o.dir, 'nginx.pid')};
error_log stderr notice;

events {
    worker_connections 64;
}

http {
    access_log ${join(o.dir, 'access.log')};
${temp}

    server {
        listen 127.0.0.1:${o.port};
        server_name localhost;
${protectedBlocks.join('\n')}
    }
}
`;
}

export type RunningNginx = RunningProxy;

/**
 * nginx writes its pid file only after it has bound every listening socket, so a pid file naming
 * our child means it is ready; merely connecting could reach another program on a reused port.
 */
function pidFileNames(path: string, pid: number | undefined): boolean {
  try {
    return pid !== undefined && readFileSync(path, 'utf8').trim() === String(pid);
  } catch {
    return false;
  }
}

export async function startNginx(o: NginxConfigOptions): Promise<RunningNginx> {
  const confPath = join(o.dir, 'nginx.conf');
  // The config holds a caller JWT: readable by its owner only.
  writeFileSync(confPath, renderNginxConfig(o), { mode: 0o600 });
  // As root, nginx's workers drop to an unprivileged user; they need to reach the temp folders
  // nginx creates (and chowns to them) inside this folder, but not to list it.
  if (process.getuid?.() === 0) chmodSync(o.dir, 0o711);

  const child = spawn(o.build.bin, ['-p', o.dir, '-c', confPath, '-e', 'stderr'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recentOutput = tail([child.stdout, child.stderr]);
  return superviseProxy({
    name: 'nginx',
    bin: o.build.bin,
    child,
    port: o.port,
    recentOutput,
    isReady: () => pidFileNames(join(o.dir, 'nginx.pid'), child.pid),
  });
}
