/**
 * Property: whatever the tokens and the cache pepper are, no field of any Analytics Engine data
 * point (src/middleware/metrics.ts) holds a GitHub token (submitted, or minted by a reset), a
 * client or webhook secret, the pepper, the caller JWT, or an id that joins it to a log line
 * (`request_id`, `token_id`) — across checks (GHES, L1), introspection, forward auth, a reset, a
 * delete, a misspelt field and a token in the query string. Logs, KV and bodies: secrecy.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestGateway, secretsOf } from '../helpers/gateway';
import { propertyPlan } from '../helpers/fast-check';
import { record } from '../hostile/record';
import { githubToken, hostileToken, printable } from './arbitraries';

function fakeDataset(): AnalyticsEngineDataset & { points: AnalyticsEngineDataPoint[] } {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (point) => void points.push(point ?? {}) };
}

/** Every string a data point holds, one field at a time. */
function fieldsOf(points: readonly AnalyticsEngineDataPoint[]): string[] {
  return points.flatMap((p) => [
    ...(p.blobs ?? []).map((b) => (typeof b === 'string' ? b : String(b))),
    ...(p.indexes ?? []).map((i) => (typeof i === 'string' ? i : String(i))),
    ...(p.doubles ?? []).map(String),
  ]);
}

/** A case is ~12 requests on a fresh gateway; budget over 3x what it takes on a loaded machine. */
const PLAN = propertyPlan(20, 600);

describe(
  'property: metrics hold no token, secret or joinable id',
  { timeout: PLAN.timeoutMs },
  () => {
    it('through checks, introspection, forward auth, a reset, a delete and refused requests', async ({
      task,
    }) => {
      record(task, {
        area: 'secrecy',
        kind: 'Analytics Engine data points: generated tokens and pepper through check, introspect, forward auth, reset, delete, a misspelt field, a token in the query',
        cases: PLAN.numRuns,
        expected:
          'one data point per request; no token, secret, caller JWT, request id or token id in any field',
      });
      await fc.assert(
        fc.asyncProperty(
          githubToken('gho_'),
          githubToken('gho_'),
          hostileToken,
          printable(32, 64),
          async (token, spare, stranger, pepper) => {
            fc.pre(new Set([token, spare, stranger]).size === 3);
            const metrics = fakeDataset();
            const gw = await createTestGateway({
              vars: { METRICS: metrics, CACHE_PEPPER: pepper },
            });
            gw.emulator.createToken({
              app: 'demo-oauth',
              login: 'octocat',
              token,
              scopes: ['repo'],
            });
            gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat', token: spare });
            const caller = await gw.caller();
            const check = (t: string) =>
              gw.post('/v1/apps/demo-oauth/token/check', { access_token: t });
            const statuses: number[] = [];
            const send = async (res: Promise<Response>) => statuses.push((await res).status);

            await send(check(token));
            await send(check(token));
            await send(check(stranger));
            await send(
              gw.request('/introspect', {
                method: 'POST',
                headers: {
                  authorization: `Bearer ${caller}`,
                  'content-type': 'application/x-www-form-urlencoded',
                },
                body: new URLSearchParams({ token }).toString(),
              }),
            );
            await send(
              gw.request('/forward-auth/x?scope=repo', {
                headers: {
                  'x-gateway-authorization': `Bearer ${caller}`,
                  authorization: `token ${token}`,
                },
              }),
            );
            await send(gw.post('/v1/apps/demo-oauth/token/check', { acess_token: token }));
            await send(gw.request(`/healthz?access_token=${encodeURIComponent(token)}`));
            const reset = await gw.post('/v1/apps/demo-oauth/token/reset', { access_token: spare });
            statuses.push(reset.status);
            const minted =
              reset.status === 200 ? ((await reset.json()) as { token: string }).token : '';
            await send(gw.post('/v1/apps/demo-oauth/token/delete', { access_token: token }));

            // The run really covered what it claims: hits, refusals, a mint, a revocation.
            expect([statuses[0], statuses[1], statuses[3], statuses[4]]).toEqual([
              200, 200, 200, 200,
            ]);
            expect([statuses[5], statuses[6], reset.status, statuses.at(-1)]).toEqual([
              422, 400, 200, 204,
            ]);
            expect(metrics.points).toHaveLength(statuses.length);

            const ids = gw.logs.flatMap((r) =>
              [r['request_id'], r['token_id']].filter((v): v is string => typeof v === 'string'),
            );
            const forbidden = [token, spare, minted, caller, ...secretsOf(gw), ...ids].filter(
              (s) => s.length >= 8,
            );
            if (stranger.length >= 16) forbidden.push(stranger);
            for (const field of fieldsOf(metrics.points))
              for (const secret of forbidden)
                expect(
                  field.includes(secret),
                  `a data point field holds ${secret.slice(0, 6)}…`,
                ).toBe(false);
          },
        ),
        PLAN.params,
      );
    });
  },
);
