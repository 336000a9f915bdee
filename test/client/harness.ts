/**
 * The typed client (client/) wired to a test gateway (test/helpers/gateway.ts): its `fetch` hands
 * each request to the gateway in process and records what went on the wire, so a test can show
 * where each credential travelled.
 */
import { createGatewayClient, type CallerJwt } from '../../client/src/index';
import { GATEWAY_URL, type TestGateway } from '../helpers/gateway';

export interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  redirect: Request['redirect'];
}

export interface ClientHarness {
  client: ReturnType<typeof createGatewayClient>;
  /** Every request the client sent, in order. */
  sent: Sent[];
  /** Every caller JWT the client was handed, in order. */
  jwts: string[];
}

/** A client for `gw` as caller `sub` (a fresh caller JWT per request unless `callerJwt` is given). */
export function clientFor(
  gw: TestGateway,
  options: {
    sub?: string;
    callerJwt?: CallerJwt;
    answer?: (req: Request) => Promise<Response>;
  } = {},
): ClientHarness {
  const sent: Sent[] = [];
  const jwts: string[] = [];
  const mint = options.callerJwt ?? (() => gw.caller(options.sub ?? 'svc-demo'));
  const client = createGatewayClient({
    baseUrl: GATEWAY_URL,
    callerJwt: async () => {
      const jwt = await mint();
      jwts.push(jwt);
      return jwt;
    },
    fetch: async (req) => {
      const body = new TextDecoder().decode(await req.clone().arrayBuffer());
      sent.push({
        method: req.method,
        url: req.url,
        headers: Object.fromEntries(req.headers),
        body,
        redirect: req.redirect,
      });
      if (options.answer !== undefined) return options.answer(req);
      const url = new URL(req.url);
      return gw.request(`${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        ...(body !== '' && { body }),
      });
    },
  });
  return { client, sent, jwts };
}

/** What `promise` rejected with (the test fails if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}
