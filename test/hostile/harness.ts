/**
 * Shared by the hostile-input suites: a request description that is built per gateway (caller
 * JWTs are minted on that gateway's clock and keys), and the checks every hostile request must
 * pass whatever else it expects:
 * - never a 5xx;
 * - an RFC 9457 problem (`application/problem+json`) whose `code` is one of the stable codes and
 *   agrees with `type` and `status` — or, where RFC 7662 says so, the plain `{"active":false}`;
 * - GHES never called: no outbound request at all (the emulator does not count requests to
 *   routes it does not serve, so the recorded outbound list is checked too);
 * - no `error`-level log line, and the hostile value is never echoed in the answer;
 * - `Object.prototype` untouched (a `__proto__` key must not pollute anything).
 */
import { expect } from 'vitest';
import {
  ERROR_CODES,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_PREFIX,
  type ErrorCode,
} from '../../src/lib/errors';
import { createTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway';
import { record } from './record';

export const OAUTH = 'demo-oauth';
export const GH_APP = 'demo-github-app';

/** What a hostile request must get. Several entries: any one of them. */
export type Expectation =
  | { status: number; code: ErrorCode }
  /** RFC 7662 §2.2: an unusable token is simply inactive (200 `{"active":false}`). */
  | { inactive: true }
  /** A public document that ignores what it was sent: its normal 200 JSON answer. */
  | { ok: true };

export interface HostileRequest {
  path: string;
  init: RequestInit;
}

export interface HostileCase {
  name: string;
  build: (gw: TestGateway) => Promise<HostileRequest>;
  expect: Expectation | Expectation[];
  /** Strings that must not come back in the answer (a hostile token, say). */
  mustNotEcho?: string[];
  /** Gateway options for this case (e.g. a larger body limit). */
  gateway?: TestGatewayOptions;
}

export function totalCalls(gw: TestGateway): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

export interface HostileAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown> | undefined;
}

function describeAnswer(c: HostileCase, a: HostileAnswer): string {
  return `${c.name}: got ${a.status} ${a.text.slice(0, 300)}`;
}

/** Sends one hostile case to a fresh gateway and checks everything above. */
export async function runHostileCase(c: HostileCase): Promise<HostileAnswer> {
  const gw = await createTestGateway(c.gateway ?? {});
  const { path, init } = await c.build(gw);
  const res = await gw.request(path, init);
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const answer: HostileAnswer = { status: res.status, headers: res.headers, text, body };
  const why = describeAnswer(c, answer);

  expect(res.status, why).toBeLessThan(500);
  const options = Array.isArray(c.expect) ? c.expect : [c.expect];
  const matched = options.some((e) =>
    'inactive' in e
      ? res.status === 200 && text === '{"active":false}'
      : 'ok' in e
        ? res.status === 200 && /^application\/json/.test(res.headers.get('content-type') ?? '')
        : res.status === e.status && body?.['code'] === e.code,
  );
  expect(matched, `${why}\nexpected one of ${JSON.stringify(options)}`).toBe(true);
  if (res.status !== 200) {
    expect(res.status, why).toBeGreaterThanOrEqual(400);
    expect(res.headers.get('content-type'), why).toBe(PROBLEM_CONTENT_TYPE);
    expect(ERROR_CODES as readonly unknown[], why).toContain(body?.['code']);
    expect(body?.['type'], why).toBe(PROBLEM_TYPE_PREFIX + String(body?.['code']));
    expect(body?.['status'], why).toBe(res.status);
  }
  expect(gw.outbound, `${c.name}: GHES was called`).toEqual([]);
  expect(totalCalls(gw), `${c.name}: GHES was called`).toBe(0);
  expect(
    gw.logs.filter((l) => l.level === 'error'),
    `${c.name}: error-level log`,
  ).toEqual([]);
  const headerText = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  for (const s of c.mustNotEcho ?? []) {
    if (s.length < 8) continue;
    expect(text.includes(s), `${c.name}: the answer echoes the hostile value`).toBe(false);
    expect(headerText.includes(s), `${c.name}: a header echoes the hostile value`).toBe(false);
    expect(
      JSON.stringify(gw.logs).includes(s),
      `${c.name}: a log line holds the hostile value`,
    ).toBe(false);
  }
  expect(({} as Record<string, unknown>)['polluted'], `${c.name}: Object.prototype polluted`).toBe(
    undefined,
  );
  return answer;
}

/** Runs every case in order, then fails once, naming every case that failed and why. */
export async function runHostileCases(cases: readonly HostileCase[]): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await runHostileCase(c);
    } catch (e) {
      failures.push(e instanceof Error ? e.message.split('\n')[0]! : String(e));
    }
  }
  // The names go into the message itself, so that reports built from it (the JSON reporter,
  // docs/reliability.md) can list them.
  expect(
    failures,
    `${failures.length} of ${cases.length} cases failed:\n${failures.map((f) => `- ${f}`).join('\n')}\n`,
  ).toEqual([]);
}

export const enc = new TextEncoder();

/** A ReadableStream body with no Content-Length, in `chunk`-byte pieces; counts what was pulled. */
export function chunkedBody(
  totalBytes: number,
  chunk = 4096,
  fill = 0x20,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const piece = new Uint8Array(chunk).fill(fill);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) {
        controller.close();
        return;
      }
      const n = Math.min(chunk, totalBytes - sent);
      sent += n;
      controller.enqueue(n === chunk ? piece.slice() : piece.slice(0, n));
    },
  });
  return { stream, pulled: () => sent };
}

/** A token-shaped string GitHub could have issued but the emulator does not know. */
export function unknownToken(i = 0): string {
  return `gho_${'Hx7'.repeat(11)}${String(i).padStart(3, '0')}`;
}

/**
 * A test body for one class of hostile input: records what it tried (for docs/reliability.md),
 * then runs every case.
 */
export function classTest(kind: string, expected: string, cases: () => HostileCase[]) {
  return async ({ task }: { task: Parameters<typeof record>[0] }) => {
    const list = cases();
    record(task, { area: 'hostile-input', kind, cases: list.length, expected });
    await runHostileCases(list);
  };
}
