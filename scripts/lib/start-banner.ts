/**
 * The text `npm start` prints once the stack is up (scripts/start.ts): a ready-to-paste curl for
 * each operation. Pure (no I/O), so test/scripts/start-banner.test.ts can read it.
 *
 * Every call prints its status line and headers (`curl -si`): a delete answers 204 with no body,
 * and `cache-status`, `x-request-id` and problem statuses are what a newcomer should see. The one
 * exception is the code exchange, whose JSON body the refresh line after it reads.
 */

export interface StartBannerInput {
  gatewayUrl: string;
  emulatorUrl: string;
  ghesVersion: string;
  /** The dev caller JWT and when it expires. */
  caller: { token: string; sub: string; expiresAt: Date; ttlS: number };
  tokens: { oauth: string; app: string; webhook: string; spare: string };
  /** A fresh authorization code for demo-github-app and the demo caller's redirect URI. */
  code: string;
  redirectUri: string;
}

/** `HH:MM:SS` UTC and the ISO instant, so the reader need not know the machine's zone. */
function when(date: Date): string {
  return `${date.toISOString().slice(11, 19)} UTC (${date.toISOString()})`;
}

export function startBanner(i: StartBannerInput): string {
  const { gatewayUrl, caller, tokens } = i;
  const admin = `${i.emulatorUrl}/_emulator`;
  const auth = `-H "Authorization: Bearer ${caller.token}"`;
  const json = `-H 'content-type: application/json'`;
  const v1 = (app: string, op: string, body: string, flags = '-si') =>
    `curl ${flags} ${auth} ${json} -X POST ${gatewayUrl}/v1/apps/${app}/${op} -d '${body}'`;
  /** Reads one member of the JSON on stdin (node is on the PATH of anyone running npm start). */
  const field = (expr: string) =>
    `node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8"))${expr}'`;
  /** X-GHES-User-Authorization for a demo user, its password read from the admin API at run time. */
  const userAuth = (login: string) =>
    `"X-GHES-User-Authorization: Basic $(curl -s ${admin}/users | ${field(
      `.filter((u) => u.login === "${login}").map((u) => Buffer.from(u.login + ":" + u.password).toString("base64"))[0]`,
    )})"`;
  const authz = (login: string, method: string, path: string, extra: string) =>
    `curl -si ${auth} -H ${userAuth(login)} ${extra}-X ${method} ${gatewayUrl}/v1/apps/demo-oauth/${path}`;
  const otp = (login: string) =>
    `-H "X-GitHub-OTP: $(curl -s ${admin}/users/${login}/otp | ${field('.otp')})" `;
  const hours = caller.ttlS % 3600 === 0 ? `${caller.ttlS / 3600} h` : `${caller.ttlS} s`;

  return `
ghes-token-gateway is running at ${gatewayUrl} in front of the GHES ${i.ghesVersion} emulator at ${i.emulatorUrl}.
Demo: OAuth app "demo-oauth", GitHub App "demo-github-app", users "octocat" and "monalisa".
Caller: "${caller.sub}", whose JWT below (dev key, ${hours}) expires at ${when(caller.expiresAt)}.
After that the gateway answers 401; get a fresh one with:  TOKEN=$(npm run -s caller-token)
(or npm run -s caller-token -- --long-lived for 365 days), and use -H "Authorization: Bearer $TOKEN".

# check a token (cached; see the cache-status header)
${v1('demo-oauth', 'token/check', `{"access_token":"${tokens.oauth}"}`)}

# RFC 7662 introspection (add -H 'Accept: application/token-introspection+jwt' for an RFC 9701 signed answer)
curl -si ${auth} ${gatewayUrl}/introspect -d token=${tokens.oauth}

# forward auth, as nginx auth_request / Envoy / Traefik call it
curl -si -H "Authorization: Bearer ${tokens.oauth}" -H "X-Gateway-Authorization: Bearer ${caller.token}" '${gatewayUrl}/forward-auth?scope=repo'

# create a scoped token (GitHub Apps only)
${v1('demo-github-app', 'token/scoped', `{"access_token":"${tokens.app}","target":"octocat","permissions":{"contents":"read"}}`)}

# reset a token (the old one stops working)
${v1('demo-oauth', 'token/reset', `{"access_token":"${tokens.spare}"}`)}

# delete a token (204, no body)
${v1('demo-oauth', 'token/delete', `{"access_token":"${tokens.oauth}"}`)}

# delete the app authorization (every token of that user for the app; 204)
${v1('demo-github-app', 'grant/delete', `{"access_token":"${tokens.app}"}`)}

# more demo tokens, minted in the emulator (its admin API): any app, any user, optional scopes
curl -s ${json} -X POST ${admin}/tokens -d '{"app":"demo-oauth","login":"octocat","scopes":["repo"]}'
curl -s ${json} -X POST ${admin}/tokens -d '{"app":"demo-github-app","login":"monalisa"}'

# OAuth web flow: exchange an authorization code (valid 10 minutes, works once; a GitHub App answers a refresh_token too) …
ANSWER=$(${v1('demo-github-app', 'oauth/token', `{"grant_type":"authorization_code","code":"${i.code}","redirect_uri":"${i.redirectUri}"}`, '-s')}); echo "$ANSWER"
# … and refresh it (the old user token and refresh token stop working)
${v1('demo-github-app', 'oauth/token', `{"grant_type":"refresh_token","refresh_token":"'"$(echo "$ANSWER" | ${field('.refresh_token')})"'"}`)}
# a fresh code, as GHES hands the browser after the user authorizes (emulator admin API)
curl -s ${json} -X POST ${admin}/oauth/codes -d '{"app":"demo-github-app","login":"octocat","redirect_uri":"${i.redirectUri}"}'

# OAuth Authorizations API as a GHES user (passwords and OTPs come from the emulator's admin API, never printed):
# get-or-create octocat's authorization for demo-oauth: 201 with the token, then 200 without it
${authz('octocat', 'PUT', 'authorizations', `${json} -d '{"scopes":["repo"],"note":"npm start demo","fingerprint":"demo"}' `)}
# monalisa has two-factor authentication: without X-GitHub-OTP, 401 user-otp-required; with it, her grants
${authz('monalisa', 'GET', 'grants', otp('monalisa'))}

# revoke the GitHub App for monalisa in GHES itself: GHES signs and sends the webhook, and the
# gateway stops vouching for her tokens at once (the check after it answers 404)
${v1('demo-github-app', 'token/check', `{"access_token":"${tokens.webhook}"}`)}
curl -s ${json} -X POST ${admin}/users/monalisa/revoke -d '{"app":"demo-github-app"}'
${v1('demo-github-app', 'token/check', `{"access_token":"${tokens.webhook}"}`)}

# a token in a URL is refused (400 token-in-query): tokens travel in bodies and headers only
curl -si '${gatewayUrl}/healthz?access_token=${tokens.spare}'

# the gateway's OpenAPI document, and a fresh caller JWT
curl -s ${gatewayUrl}/openapi.json
npm run -s caller-token

Press Ctrl+C to stop.
`;
}
