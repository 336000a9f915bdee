/**
 * The Node runner's one-line ready message. Kept here (not in scripts/) so a workerd test can
 * prove it never contains a client secret: it names apps by name and client id only and points
 * at the admin route that hands out secrets.
 */
import type { AppInfo } from './routes-admin';

export function readyLine(url: string, version: string, apps: readonly AppInfo[]): string {
  const listed = apps.map((a) => `${a.name} (${a.kind}, ${a.client_id})`).join(', ') || 'none';
  return (
    `GHES ${version} emulator ready at ${url} — API ${url}/api/v3, admin ${url}/_emulator; ` +
    `apps: ${listed}; client secrets: GET ${url}/_emulator/apps; ` +
    `user passwords: GET ${url}/_emulator/users; web flow: POST ${url}/login/oauth/access_token`
  );
}
