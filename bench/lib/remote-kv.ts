/**
 * The measured gateway's KV, served from a second workerd process.
 *
 * miniflare simulates KV with a Durable Object over SQLite inside the workerd process that runs the
 * worker, on the same thread as the gateway's isolate: every KV read, and the write each miss makes
 * after its answer, is CPU on the thread that serves the next request. Measured, that took a miss
 * from 1.08 to 1.7 times the emulator's own latency (docs/performance.md, "Miss path, broken down").
 * Cloudflare's KV is served from elsewhere, and reached by a call. So here the gateway's KV
 * bindings are replaced, in a wrapper module loaded beside its bundle (the bundle itself is
 * untouched), by a small client that makes each `get` and `put` one HTTP call to a KV host: a worker
 * in its own Miniflare (its own workerd process) holding the namespaces. The gateway pays a call
 * per KV operation, as it does in production, and the store's work runs elsewhere. Only the operations the gateway uses exist: `get` (one key or a bulk list, as text or
 * JSON) and `put` with `expirationTtl`.
 */
import { Miniflare } from 'miniflare';
import { withEntryWrapper, type Manifest } from './entry-wrapper';
import { workerOutput } from './worker-output';

/**
 * The KV host's worker: the namespaces in memory, with KV's expiry (`expirationTtl`, seconds) and
 * nothing else of KV's semantics the gateway does not use. In memory rather than miniflare's KV
 * simulation: that simulation (SQLite behind a Durable Object) answered a bulk read at a p50 of
 * 21 ms at 32 connections even in a process of its own, and failed part of the KV-hit scenario
 * with 500s, so it measured itself. Cloudflare's KV answers a hot read in about a millisecond; a
 * loopback call to this host is the nearest local stand-in.
 */
const HOST_SOURCE = `
const store = new Map();

function read(key, type, now) {
  const hit = store.get(key);
  if (hit === undefined) return null;
  if (hit.expiresAt !== undefined && hit.expiresAt <= now) {
    store.delete(key);
    return null;
  }
  return type === 'json' ? JSON.parse(hit.value) : hit.value;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method !== 'POST') return new Response('POST only', { status: 405 });
    const body = await request.json();
    const ns = String(body.ns) + ':';
    const now = Date.now();
    if (url.pathname === '/get') {
      const type = body.type === 'json' ? 'json' : 'text';
      if (Array.isArray(body.keys))
        return Response.json({ entries: body.keys.map((k) => [k, read(ns + k, type, now)]) });
      return Response.json({ value: read(ns + body.keys, type, now) });
    }
    if (url.pathname === '/put') {
      const ttl = body.options?.expirationTtl;
      if (typeof body.value !== 'string') return new Response('text values only', { status: 400 });
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60))
        return new Response('expirationTtl must be an integer of at least 60', { status: 400 });
      store.set(ns + body.key, {
        value: body.value,
        expiresAt: ttl === undefined ? undefined : now + ttl * 1000,
      });
      return new Response(null, { status: 204 });
    }
    if (url.pathname === '/delete') {
      store.delete(ns + body.key);
      return new Response(null, { status: 204 });
    }
    return new Response('unknown operation', { status: 404 });
  },
};
`;

export interface KvHost {
  /** Origin of the host worker's socket. */
  url: string;
  dispose(): Promise<void>;
}

/** Starts the KV host: its own workerd process. */
export async function startKvHost(compatibilityDate: string): Promise<KvHost> {
  const output = workerOutput();
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: 'kv-host',
          compatibilityDate,
          manifest: {
            mainModule: 'kv-host.js',
            modules: { 'kv-host.js': { type: 'esm', contents: HOST_SOURCE } },
          },
        },
        dev: { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] },
      },
    ],
    enableDevRegistry: false,
    ...output.options,
  });
  await mf.ready;
  const url = new URL(await mf.unsafeGetDirectURL('kv-host')).origin;
  return {
    url,
    dispose: async () => {
      await mf.dispose();
      output.dispose();
    },
  };
}

/** Name of the wrapper module, beside the bundle's modules (never written to disk). */
const WRAPPER = '__bench_remote_kv.js';

/** The wrapper: the gateway's own `fetch`, with each named KV binding replaced by a client. */
function wrapperSource(mainModule: string, kvBindings: readonly string[], ns: string): string {
  return `
import gateway from ${JSON.stringify(`./${mainModule}`)};

const KV_BINDINGS = ${JSON.stringify(kvBindings)};
/** Each worker's namespaces apart from every other worker's, as separate namespaces would be. */
const NS = ${JSON.stringify(ns)};

function remoteKv(base, ns) {
  const call = async (op, body) => {
    const res = await fetch(base + '/' + op, { method: 'POST', body: JSON.stringify({ ns, ...body }) });
    if (!res.ok) throw new Error('KV host answered ' + res.status + ' to ' + op);
    return res;
  };
  return {
    async get(key, type) {
      const t = typeof type === 'object' && type !== null ? type.type : type;
      const answer = await (await call('get', { keys: key, type: t ?? 'text' })).json();
      return Array.isArray(key) ? new Map(answer.entries) : answer.value;
    },
    async put(key, value, options) {
      await (await call('put', { key, value, options })).arrayBuffer();
    },
    async delete(key) {
      await (await call('delete', { key })).arrayBuffer();
    },
  };
}

/** Built once: the gateway builds itself once per env object. */
let wrapped;

export default {
  fetch(request, env, ctx) {
    wrapped ??= {
      ...env,
      ...Object.fromEntries(KV_BINDINGS.map((name) => [name, remoteKv(env.BENCH_KV_URL, NS + '/' + name)])),
    };
    return gateway.fetch(request, wrapped, ctx);
  },
};
`;
}

/** The gateway's manifest with the KV client's wrapper as its entry point (bundle unchanged). */
export function withRemoteKv(
  manifest: Manifest,
  kvBindings: readonly string[],
  workerName: string,
): Manifest {
  return withEntryWrapper(manifest, WRAPPER, (main) => wrapperSource(main, kvBindings, workerName));
}
