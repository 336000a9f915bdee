/**
 * One place that turns a user call's parts into a GhesCall: the user's Basic header and OTP, the
 * strings to scrub, and the retry rule (everything but POST create, which mints a token each time, is retried).
 */
import type { AnswerSchema } from '../answer';
import type { GhesCall, GhesOperation } from '../request';
import { credentialSecrets, userAuth, type UserCredentials } from './user-call';

export function userCall<T>(
  user: UserCredentials,
  call: {
    operation: GhesOperation;
    method: GhesCall<T>['method'];
    path: string;
    body?: unknown;
    answer: AnswerSchema<T>;
    /** Strings besides the credentials to scrub from GHES's answers (the client secret is added). */
    secrets?: readonly string[];
  },
): GhesCall<T> {
  // PATCH sets, adds or removes scopes and sets notes: the same request twice ends the same way.
  const idempotent = call.method !== 'POST';
  const out: GhesCall<T> = {
    operation: call.operation,
    method: call.method,
    path: call.path,
    // Paths carry ids and the (public) client id only; never a credential.
    logPath: call.path.replace(/\?.*$/, ''),
    retry: idempotent ? 'idempotent' : 'never',
    secrets: [...credentialSecrets(user), ...(call.secrets ?? [])],
    answer: call.answer,
    user: userAuth(user),
  };
  if (call.body !== undefined) out.body = call.body;
  if (call.method === 'DELETE') out.notFoundAfterAmbiguousIsSuccess = true;
  return out;
}
