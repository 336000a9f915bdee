/**
 * Shared valibot schemas: each validates requests or describes answers in /openapi.json.
 * Trust boundary: everything a caller sends passes through one of these before use.
 */
import * as v from 'valibot';
import { APP_NAME_PATTERN, MAX_TOKEN_LENGTH } from '../config/types';
import { ERROR_CODES } from '../lib/errors';
import type { HeaderSpec, ResponseSpec } from './api';

/** Named schemas: `#/components/schemas/<name>` in the document (src/routes/document.ts). */
export const COMPONENTS: Record<string, v.GenericSchema> = {};

/** Registers `schema` as the component `name` and returns it. */
export function component<S extends v.GenericSchema>(name: string, schema: S): S {
  if (Object.hasOwn(COMPONENTS, name)) throw new Error(`component ${name} declared twice`);
  COMPONENTS[name] = schema;
  return schema;
}

/**
 * A GitHub token as GHES accepts it: printable ASCII without spaces. `gho_`/`ghu_` tokens are 40
 * characters, legacy ones 40 hex; 255 leaves room for future formats while keeping CR/LF,
 * non-ASCII and huge values out of every code path.
 */
export const accessToken = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(MAX_TOKEN_LENGTH, 'is longer than any GitHub token'),
  v.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  v.check((token) => /[A-Za-z0-9]/.test(token), 'must contain a letter or digit'),
  v.description('A GitHub user token (gho_…, ghu_…)'),
  v.examples(['gho_EXAMPLE-not-a-real-token']),
);

export const appName = v.pipe(
  v.string(),
  v.regex(APP_NAME_PATTERN),
  v.description('A configured app name'),
  v.examples(['demo-oauth']),
);

export const AppParams = v.object({ app: appName });

export const TokenBody = component('TokenRequest', v.strictObject({ access_token: accessToken }));

const integer = v.pipe(v.number(), v.integer());

export const GitHubUser = component(
  'GitHubUser',
  v.object({
    login: v.string(),
    id: integer,
    node_id: v.optional(v.string()),
    type: v.optional(v.string()),
    site_admin: v.optional(v.boolean()),
  }),
);

const installation = component(
  'ScopedInstallation',
  v.object({
    permissions: v.record(v.string(), v.string()),
    repository_selection: v.picklist(['all', 'selected']),
    single_file_name: v.nullable(v.string()),
    repositories_url: v.string(),
    account: GitHubUser,
    has_multiple_single_files: v.optional(v.boolean()),
    single_file_paths: v.optional(v.array(v.string())),
  }),
);

export const OAuthAppRef = v.object({ client_id: v.string(), name: v.string(), url: v.string() });

const authorizationFields = {
  id: integer,
  url: v.string(),
  scopes: v.nullable(v.array(v.string())),
  token_last_eight: v.nullable(v.string()),
  app: OAuthAppRef,
  note: v.nullable(v.string()),
  note_url: v.nullable(v.string()),
  updated_at: v.string(),
  created_at: v.string(),
  fingerprint: v.nullable(v.string()),
  user: v.nullish(GitHubUser),
  installation: v.nullish(installation),
  expires_at: v.nullish(v.string()),
};

export const PublicAuthorizationSchema = component(
  'Authorization',
  v.pipe(
    v.object(authorizationFields),
    v.description('What GHES returned, without `token` and `hashed_token`'),
  ),
);

export const newTokenFields = {
  ...authorizationFields,
  token: v.pipe(v.string(), v.description('The new token')),
};

export const NewTokenSchema = component(
  'NewToken',
  v.pipe(
    v.object(newTokenFields),
    v.description('A freshly minted token and its authorization (no `hashed_token`)'),
  ),
);

export const ProblemSchema = component(
  'Problem',
  v.pipe(
    v.object({
      type: v.string(),
      code: v.picklist(ERROR_CODES),
      title: v.string(),
      status: integer,
      detail: v.optional(v.string()),
      request_id: v.optional(v.string()),
      errors: v.optional(v.array(v.object({ field: v.string(), message: v.string() }))),
    }),
    v.description('RFC 9457 problem details; `code` is stable, `detail` is for people'),
  ),
);

export const PROBLEM_TYPE = 'application/problem+json';

export const problem = (
  description: string,
  headers?: Readonly<Record<string, HeaderSpec>>,
): ResponseSpec => ({
  description,
  content: { [PROBLEM_TYPE]: ProblemSchema },
  ...(headers !== undefined && { headers }),
});

export const RETRY_AFTER = {
  'retry-after': { description: 'Seconds to wait before trying again', required: true },
};
export const WWW_AUTHENTICATE = {
  'www-authenticate': { description: 'RFC 6750 §3 challenge', required: true },
};

/** The error answers every protected route can give. */
export const commonProblems = {
  401: problem('Missing or invalid caller credentials', WWW_AUTHENTICATE),
  403: problem('The caller may not use this app or operation'),
  404: problem('Unknown app, or GHES does not know the token'),
  422: problem('Body failed validation, or GHES rejected it'),
  429: problem('Rate limited (by the gateway or GHES)', RETRY_AFTER),
  502: problem('GHES failed or rejected the gateway credentials'),
  503: problem('GHES unavailable'),
  504: problem('GHES did not answer in time'),
} as const satisfies Record<number, ResponseSpec>;
