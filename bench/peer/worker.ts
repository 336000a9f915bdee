/**
 * The peer: what a team would deploy without the gateway — `@octokit/oauth-app`'s web-worker
 * handler, which answers `GET /api/github/oauth/token` (header `Authorization: token <t>`) by
 * calling GHES's check-token endpoint every time (it caches nothing). Octokit points at the
 * emulator through `baseUrl`, the documented way to use it with GHES.
 */
import { Octokit } from '@octokit/core';
import { createWebWorkerHandler, OAuthApp } from '@octokit/oauth-app';

interface PeerEnv {
  /** e.g. http://127.0.0.1:40123/api/v3 */
  GHES_BASE_URL: string;
  CLIENT_ID: string;
  CLIENT_SECRET: string;
}

type Handler = (request: Request) => Promise<Response | undefined>;

// Built once per isolate, as a deployed worker would keep it.
let handler: Handler | undefined;

export default {
  async fetch(request: Request, env: PeerEnv): Promise<Response> {
    handler ??= createWebWorkerHandler(
      new OAuthApp({
        clientType: 'oauth-app',
        clientId: env.CLIENT_ID,
        clientSecret: env.CLIENT_SECRET,
        Octokit: Octokit.defaults({ baseUrl: env.GHES_BASE_URL }),
      }),
    );
    return (await handler(request)) ?? new Response('not found\n', { status: 404 });
  },
};
