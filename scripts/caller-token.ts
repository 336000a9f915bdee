/**
 * DEV ONLY: prints a caller JWT for the local demo caller, signed with the committed development
 * key in scripts/dev-keys/caller-dev-key.json.
 *
 *   npm run -s caller-token                   # sub demo-caller, valid 1 hour (expiry on stderr)
 *   npm run -s caller-token -- --long-lived   # valid 365 days (e.g. a local API-gateway config)
 *   npm run caller-token -- --sub svc-x --ttl 600 --aud ghes-token-gateway --iss ghes-token-gateway-dev
 *   npm run -s caller-token -- --jwks         # the public JWKS to put in the local CALLER_JWKS
 *
 * Trust boundary: the private key is public knowledge (it is in the repository). Its public half
 * belongs only in the local wrangler vars; configuring it in staging or production would let
 * anyone mint caller tokens. Staging and production callers get tokens from the real issuer.
 *
 * The token goes to stdout alone, so `TOKEN=$(npm run -s caller-token)` works; notes go to stderr.
 * Written in erasable TypeScript only, so Node's type stripping can import it as well as tsx.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT, importJWK, type JWK } from 'jose';

export const DEV_CALLER_ISSUER = 'ghes-token-gateway-dev';
export const DEV_CALLER_AUDIENCE = 'ghes-token-gateway';
export const DEV_CALLER_SUB = 'demo-caller';
export const DEV_TOKEN_TTL_S = 3600;
export const LONG_LIVED_TTL_S = 365 * 86_400;

const KEY_FILE = new URL('./dev-keys/caller-dev-key.json', import.meta.url);

interface DevKeyFile {
  DEV_ONLY: string;
  kid: string;
  privateJwk: JWK;
  publicJwks: { keys: JWK[] };
}

function readDevKeyFile(): DevKeyFile {
  const file = JSON.parse(readFileSync(KEY_FILE, 'utf8')) as DevKeyFile;
  if (typeof file.DEV_ONLY !== 'string' || typeof file.privateJwk?.d !== 'string')
    throw new Error(`${fileURLToPath(KEY_FILE)} is not the dev caller key file`);
  return file;
}

/** The public JWKS matching the dev key, for the local CALLER_JWKS var. */
export function devCallerPublicJwks(): { keys: JWK[] } {
  return readDevKeyFile().publicJwks;
}

export interface DevCallerTokenOptions {
  sub?: string;
  /** Lifetime in seconds. Default 3600. */
  ttlS?: number;
  aud?: string;
  iss?: string;
  /** Clock in ms. Default `Date.now()`. */
  now?: number;
}

/** Mints a caller JWT signed with the DEV ONLY key. */
export async function mintDevCallerToken(options: DevCallerTokenOptions = {}): Promise<string> {
  return (await mintDevCaller(options)).token;
}

/** A DEV ONLY caller JWT and the instant it expires (its `exp`). */
export async function mintDevCaller(
  options: DevCallerTokenOptions = {},
): Promise<{ token: string; expiresAt: Date }> {
  const sub = options.sub ?? DEV_CALLER_SUB;
  const ttlS = options.ttlS ?? DEV_TOKEN_TTL_S;
  if (sub.length === 0) throw new Error('sub must not be empty');
  if (!Number.isInteger(ttlS) || ttlS <= 0)
    throw new Error('ttl must be a positive whole number of seconds');
  const file = readDevKeyFile();
  const key = await importJWK(file.privateJwk, 'ES256');
  const nowS = Math.floor((options.now ?? Date.now()) / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: file.kid })
    .setIssuer(options.iss ?? DEV_CALLER_ISSUER)
    .setAudience(options.aud ?? DEV_CALLER_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + ttlS)
    .sign(key);
  return { token, expiresAt: new Date((nowS + ttlS) * 1000) };
}

const USAGE = `usage: npm run -s caller-token -- [--sub S] [--ttl SECONDS | --long-lived] [--aud A] [--iss I] [--jwks]
Prints a DEV ONLY caller JWT (default sub ${DEV_CALLER_SUB}, ttl ${DEV_TOKEN_TTL_S}s,
iss ${DEV_CALLER_ISSUER}, aud ${DEV_CALLER_AUDIENCE}). --jwks prints the public JWKS instead.`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        sub: { type: 'string' },
        ttl: { type: 'string' },
        'long-lived': { type: 'boolean' },
        aud: { type: 'string' },
        iss: { type: 'string' },
        jwks: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.jwks === true) {
    process.stdout.write(`${JSON.stringify(devCallerPublicJwks())}\n`);
    return 0;
  }
  if (parsed.ttl !== undefined && parsed['long-lived'] === true) {
    process.stderr.write(`use either --ttl or --long-lived\n${USAGE}\n`);
    return 2;
  }
  let ttlS = DEV_TOKEN_TTL_S;
  if (parsed['long-lived'] === true) ttlS = LONG_LIVED_TTL_S;
  if (parsed.ttl !== undefined) {
    if (!/^[1-9][0-9]*$/.test(parsed.ttl)) {
      process.stderr.write(`--ttl must be a positive whole number of seconds\n${USAGE}\n`);
      return 2;
    }
    ttlS = Number(parsed.ttl);
  }
  const options: DevCallerTokenOptions = { ttlS };
  if (parsed.sub !== undefined) options.sub = parsed.sub;
  if (parsed.aud !== undefined) options.aud = parsed.aud;
  if (parsed.iss !== undefined) options.iss = parsed.iss;
  const { token, expiresAt } = await mintDevCaller(options);
  process.stdout.write(`${token}\n`);
  process.stderr.write(
    `DEV ONLY caller token (signed with the committed dev key; local use only), expires ${expiresAt.toISOString()}\n`,
  );
  return 0;
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`caller-token: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
