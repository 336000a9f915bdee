/**
 * Every test file: unmocked outbound requests fail the test. Code under test receives an
 * injected `fetch` (usually routed into the GHES emulator); anything that reaches the global
 * `fetch` instead is a bug in the test or the code.
 */
import { afterEach, beforeEach } from 'vitest';

const realFetch = globalThis.fetch;

beforeEach(() => {
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const url = input instanceof Request ? input.url : String(input);
    throw new Error(`unexpected outbound request in a test: ${new URL(url).origin}`);
  }) as typeof fetch;
});

afterEach(() => {
  globalThis.fetch = realFetch;
});
