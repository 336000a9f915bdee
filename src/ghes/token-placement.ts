/**
 * Where a call carries the token. Body style (GHES 2.20+) sends it in the JSON body; legacy
 * path-style calls (GHES 2.18 – 3.3, deprecated from 2.20) put it in the URL, so the real path
 * goes only to `fetch` and logs get `logPath`, with the token replaced.
 */
import { GatewayError } from '../lib/errors';
import type { GhesCall } from './request';

type Placement = Pick<GhesCall<unknown>, 'path' | 'logPath' | 'body' | 'secrets'>;

export function tokenInBody(path: string, accessToken: string): Placement {
  return { path, logPath: path, body: { access_token: accessToken }, secrets: [accessToken] };
}

/** `/{collection}/{access_token}` below `/applications/{client_id}`. */
export function tokenInPath(collection: '/tokens' | '/grants', accessToken: string): Placement {
  return {
    path: `${collection}/${segment(accessToken)}`,
    logPath: `${collection}/{access_token}`,
    secrets: [accessToken, encodeURIComponent(accessToken)],
  };
}

/**
 * The token as one path segment. `encodeURIComponent` leaves `.` alone and URL parsing resolves
 * `.`/`..` (even `%2e`), so such a "token" would send the app's credentials to another endpoint.
 */
function segment(accessToken: string): string {
  if (/^(\.|%2e)+$/i.test(accessToken)) {
    throw new GatewayError('validation-failed', {
      detail: 'access_token is not a token',
      extensions: { errors: [{ field: 'body.access_token', message: 'is not a token' }] },
    });
  }
  return encodeURIComponent(accessToken);
}
