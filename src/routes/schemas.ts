/**
 * Shared zod schemas: each validates requests and documents them in /openapi.json.
 * Trust boundary: everything a caller sends passes through one of these before use.
 */
import { z } from '@hono/zod-openapi';
import { APP_NAME_PATTERN } from '../config/types';
import { ERROR_CODES } from '../lib/errors';

/**
 * A GitHub token as GHES accepts it: printable ASCII without spaces. `gho_`/`ghu_` tokens are 40
 * characters, legacy ones 40 hex; 255 leaves room for future formats while keeping CR/LF,
 * non-ASCII and huge values out of every code path.
 */
export const accessToken = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'is longer than any GitHub token')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .regex(/[A-Za-z0-9]/, 'must contain a letter or digit')
  .openapi({
    description: 'A GitHub user token (gho_…, ghu_…)',
    example: 'gho_EXAMPLE-not-a-real-token',
  });

export const AppParams = z.object({
  app: z
    .string()
    .regex(APP_NAME_PATTERN)
    .openapi({
      param: { name: 'app', in: 'path' },
      description: 'A configured app name',
      example: 'demo-oauth',
    }),
});

export const TokenBody = z.strictObject({ access_token: accessToken }).openapi('TokenRequest');

const user = z
  .object({
    login: z.string(),
    id: z.number().int(),
    node_id: z.string().optional(),
    type: z.string().optional(),
    site_admin: z.boolean().optional(),
  })
  .openapi('GitHubUser');

const installation = z
  .object({
    permissions: z.record(z.string(), z.string()),
    repository_selection: z.enum(['all', 'selected']),
    single_file_name: z.string().nullable(),
    repositories_url: z.string(),
    account: user,
    has_multiple_single_files: z.boolean().optional(),
    single_file_paths: z.array(z.string()).optional(),
  })
  .openapi('ScopedInstallation');

const authorizationFields = {
  id: z.number().int(),
  url: z.string(),
  scopes: z.array(z.string()).nullable(),
  token_last_eight: z.string().nullable(),
  app: z.object({ client_id: z.string(), name: z.string(), url: z.string() }),
  note: z.string().nullable(),
  note_url: z.string().nullable(),
  updated_at: z.string(),
  created_at: z.string(),
  fingerprint: z.string().nullable(),
  user: user.nullable().optional(),
  installation: installation.nullable().optional(),
  expires_at: z.string().nullable().optional(),
};

export const PublicAuthorizationSchema = z.object(authorizationFields).openapi('Authorization', {
  description: 'What GHES returned, without `token` and `hashed_token`',
});

export const NewTokenSchema = z
  .object({ ...authorizationFields, token: z.string().openapi({ description: 'The new token' }) })
  .openapi('NewToken', {
    description: 'A freshly minted token and its authorization (no `hashed_token`)',
  });

export const ProblemSchema = z
  .object({
    type: z.string(),
    code: z.enum(ERROR_CODES),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details' });

export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error answers every protected route can give. */
export const commonProblems = {
  401: problem('Missing or invalid caller credentials'),
  403: problem('The caller may not use this app or operation'),
  404: problem('Unknown app, or GHES does not know the token'),
  413: problem('Body over the size limit'),
  415: problem('Body is not JSON'),
  422: problem('Body failed validation, or GHES rejected it'),
  429: problem('Rate limited (by the gateway or GHES)'),
  502: problem('GHES failed or rejected the gateway credentials'),
  503: problem('GHES unavailable'),
  504: problem('GHES did not answer in time'),
} as const;
