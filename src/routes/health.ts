/** GET /healthz: liveness for load balancers. No auth, no GHES call, nothing about the config. */
import * as v from 'valibot';
import { JSON_TYPE, type Api } from './api';

export function registerHealthRoutes(api: Api): void {
  api.route(
    {
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      tags: ['operations'],
      summary: 'Liveness check',
      responses: {
        200: {
          description: 'The gateway is running',
          content: { [JSON_TYPE]: v.object({ status: v.literal('ok') }) },
        },
      },
    },
    (c) => {
      c.header('cache-control', 'no-store');
      return c.json({ status: 'ok' as const }, 200);
    },
  );
}
