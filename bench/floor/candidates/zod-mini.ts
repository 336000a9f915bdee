/**
 * Candidate (b)'s schema: zod v4's mini build (`zod/mini`, functional checks, no methods on
 * schemas, so a bundler keeps only the checks used), validated through Standard Schema.
 */
import * as z from 'zod/mini';
import { APP_PATTERN, TOKEN_PATTERN } from './shape';

export const TokenCheck = z.strictObject({
  app: z.string().check(z.regex(new RegExp(APP_PATTERN))),
  token: z.string().check(z.regex(new RegExp(TOKEN_PATTERN))),
  scope: z.optional(z.string()),
});
