/**
 * A `fetch` that routes any URL's path into the emulator app, for injection as the gateway's
 * outbound fetch. It keeps the parts of fetch semantics a GHES client depends on:
 * - the AbortSignal ends the call at once (rejecting with the signal's reason) and reaches the
 *   app, so a hanging or slow fault also ends;
 * - `redirect`: "manual" returns the 3xx as is, "error" rejects, "follow" (the default) follows up
 *   to 20 hops, turns POST into GET on 301/302/303 and drops `authorization` when the origin
 *   changes (Fetch standard, HTTP-redirect fetch);
 * - a dropped connection is a TypeError, like a network error from the real fetch.
 */
import type { Hono } from 'hono';
import { abortReason, ConnectionDropped } from './core';
import type { EmulatorEnv } from './pipeline';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

/** Settles with `work` or, if first, with the abort reason; `work` is always observed. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createEmulatorFetch(app: Hono<EmulatorEnv>): typeof fetch {
  const emulatorFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const first = new Request(input, init);
    const signal =
      init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    const mode = init?.redirect ?? (input instanceof Request ? input.redirect : 'follow');
    if (signal?.aborted) throw abortReason(signal);

    let url = first.url;
    let method = first.method;
    const headers = new Headers(first.headers);
    let body: ArrayBuffer | null =
      method === 'GET' || method === 'HEAD' ? null : await first.arrayBuffer();

    for (let hop = 0; ; hop++) {
      if (signal?.aborted) throw abortReason(signal);
      const request = new Request(url, { method, headers, body, redirect: 'manual' });
      let response: Response;
      try {
        response = await raceAbort(
          Promise.resolve(app.fetch(request, signal ? { signal } : {})),
          signal,
        );
      } catch (err) {
        if (err instanceof ConnectionDropped)
          throw new TypeError('Network connection lost.', { cause: err });
        throw err;
      }
      if (!REDIRECTS.has(response.status) || mode === 'manual') return response;
      const location = response.headers.get('location');
      if (location === null) return response;
      if (mode === 'error')
        throw new TypeError(`redirect to ${location} refused (redirect: "error")`);
      if (hop + 1 > MAX_REDIRECTS) throw new TypeError('too many redirects');
      const next = new URL(location, url);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        if (method !== 'HEAD') method = 'GET';
        body = null;
        for (const name of [
          'content-type',
          'content-length',
          'content-encoding',
          'content-language',
          'content-location',
        ]) {
          headers.delete(name);
        }
      }
      if (new URL(url).origin !== next.origin) headers.delete('authorization');
      url = next.href;
    }
  };
  return emulatorFetch as typeof fetch;
}
