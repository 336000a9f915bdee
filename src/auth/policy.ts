/**
 * The caller policy (CALLER_POLICY): which apps and operations each authenticated caller `sub`
 * may use. Pure functions over the `Caller` set by `callerAuth`; no I/O.
 *
 * Existence is not revealed to callers who may not use an app: a caller whose `apps` list does
 * not name an app gets 403 `forbidden` whether or not the app exists, so the answer cannot be
 * used to enumerate the gateway's apps. Only callers allowed every app (`"*"`) can learn that an
 * app does not exist: `resolveApp` returns the name and the route's app lookup answers 404
 * `unknown-app`. Named entries are validated against APPS when the config is parsed (src/env.ts).
 */
import type { CallerPolicyEntry, Operation } from '../env';
import { GatewayError } from '../errors';
import type { Caller } from './caller-auth';

/** Whether `entry` allows `operation` on `app`. `"*"` in `apps` means every configured app. */
export function isAllowed(
  entry: Readonly<CallerPolicyEntry>,
  app: string,
  operation: Operation,
): boolean {
  return (
    entry.operations.includes(operation) && (entry.apps.includes('*') || entry.apps.includes(app))
  );
}

/** App names are caller input here; keep the echoed form short. */
function shown(app: string): string {
  return app.length > 100 ? `${app.slice(0, 100)}…` : app;
}

/** Throws 403 `forbidden` unless the caller may perform `operation` on `app`. */
export function authorize(caller: Caller, app: string, operation: Operation): void {
  if (isAllowed(caller.policy, app, operation)) return;
  throw new GatewayError('forbidden', {
    detail: `caller "${caller.sub}" may not ${operation} on app "${shown(app)}"`,
    reason: caller.policy.operations.includes(operation)
      ? 'app not in the caller policy'
      : 'operation not in the caller policy',
  });
}

/**
 * The app a request acts on: the one it names, or else the caller's `default_app` (introspection
 * and forward auth, where gateways often cannot add a parameter). Throws 400 `invalid-request`
 * when neither is present and 403 `forbidden` when the caller may not use the app.
 */
export function resolveApp(
  caller: Caller,
  requestedApp: string | undefined,
  operation: Operation,
): string {
  const app =
    requestedApp !== undefined && requestedApp !== '' ? requestedApp : caller.policy.default_app;
  if (app === undefined)
    throw new GatewayError('invalid-request', {
      detail: `no app named, and caller "${caller.sub}" has no default app`,
      reason: 'request names no app and the caller policy has no default_app',
    });
  authorize(caller, app, operation);
  return app;
}
