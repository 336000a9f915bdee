/**
 * The service behind nginx (or Caddy): answers every request with JSON naming the path and the
 * `X-User` header it received (and, when asked, every header), and counts requests, so a check can tell "nginx let it through with this
 * user" from "nginx stopped it before the upstream".
 */
import { createServer } from 'node:http';

export interface UpstreamSeen {
  path: string;
  /** The X-User header as received; null when absent. */
  x_user: string | null;
  /** Every request header as received (node's lower-case names); only with `echoHeaders`. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface RunningUpstream {
  port: number;
  /** Requests that reached the upstream so far. */
  hits(): number;
  close(): Promise<void>;
}

export async function startUpstream(
  options: { echoHeaders?: boolean } = {},
): Promise<RunningUpstream> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    const header = req.headers['x-user'];
    const seen: UpstreamSeen = {
      path: req.url ?? '',
      x_user: typeof header === 'string' ? header : null,
      ...(options.echoHeaders === true && { headers: { ...req.headers } }),
    };
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'e2e' });
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upstream has no port');
  return {
    port: address.port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
