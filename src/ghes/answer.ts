/**
 * Reading a GHES answer. Trust boundary: GHES's answers are untrusted input. A body is read as a
 * stream up to a bound, and a 2xx only counts once its body passes the call's schema.
 */
import * as v from 'valibot';
import { readAtMost, strictUtf8, type BoundedRead } from '../lib/bounded-read';
import { err, ok, type Result } from '../lib/result';

/** Default bound on a GHES answer: an authorization is a few KB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Why an answer cannot be used: `reason` for the log, `detail` for the caller. */
export interface Unusable {
  reason: string;
  detail: string;
}

const NOT_JSON = 'GHES answered with something that is not JSON';

/**
 * Reads a body as a stream, at most `limit` bytes. Over the bound (announced by
 * `content-length`, or counted while reading) the stream is cancelled and nothing more is read.
 * Read errors (a dropped connection, the attempt's timeout) are thrown as they come.
 */
export async function readBody(res: Response, limit: number): Promise<Result<string, Unusable>> {
  const tooLarge = (): Result<string, Unusable> =>
    err({
      reason: `body over ${limit} bytes, not read`,
      detail: `GHES answered with more than ${limit} bytes`,
    });
  const body = res.body;
  if (body === null) return ok('');
  const declared = res.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limit) {
    // Not awaited: a hostile source's cancel must not hold the call.
    body.cancel().catch(() => undefined);
    return tooLarge();
  }
  const reader = body.getReader();
  let read: BoundedRead;
  try {
    read = await readAtMost(reader, limit);
  } catch (e) {
    reader.cancel().catch(() => undefined);
    throw e;
  }
  if (read.over) {
    // Not awaited: a hostile source's cancel must not hold the call.
    reader.cancel().catch(() => undefined);
    return tooLarge();
  }
  try {
    // GitHub's REST API answers UTF-8 JSON (RFC 8259 §8.1); anything else is not its answer.
    return ok(strictUtf8(read.bytes));
  } catch {
    return err({ reason: 'body not UTF-8', detail: NOT_JSON });
  }
}

/** A call's schema for its answer: whatever GHES sent in, `T` out. */
export type AnswerSchema<T> = v.GenericSchema<unknown, T>;

/** Parses a 2xx body and validates it against the call's schema; an empty body is `undefined`. */
export function parseAnswer<T>(text: string, schema: AnswerSchema<T>): Result<T, Unusable> {
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      return err({ reason: 'body not JSON', detail: NOT_JSON });
    }
  }
  const parsed = v.safeParse(schema, data);
  if (parsed.success) return ok(parsed.output);
  return err({
    reason: `body invalid at ${describeIssues(parsed.issues)}`,
    detail: 'GHES answered with a body the gateway cannot use',
  });
}

type Issue = v.BaseIssue<unknown>;

/**
 * The issue codes the log has always shown (docs/operations.md): `invalid_type`, `too_big`,
 * `too_small`, `invalid_format`, `invalid_value`, `invalid_key`, `invalid_union`, `custom`.
 */
function issueCode(issue: Issue): string {
  // A record key that failed its own schema (the key itself is never shown).
  if (issue.path?.at(-1)?.origin === 'key' && issue.kind !== 'schema') return 'invalid_key';
  if (issue.type === 'union') return 'invalid_union';
  if (issue.kind === 'schema')
    return issue.type === 'picklist' || issue.type === 'literal' ? 'invalid_value' : 'invalid_type';
  if (issue.type.startsWith('max_')) return 'too_big';
  if (issue.type.startsWith('min_')) return 'too_small';
  if (issue.type === 'regex') return 'invalid_format';
  if (issue.type === 'integer' || issue.type === 'safe_integer') return 'invalid_type';
  return 'custom';
}

/**
 * Where an answer failed its schema, as field paths and issue codes: never the value, and never
 * a key GHES made up (a record key could be anything, a token included).
 */
export function describeIssues(issues: readonly Issue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    let path = '';
    for (const { key } of issue.path ?? []) {
      if (typeof key === 'number') path += `[${key}]`;
      else if (typeof key === 'string' && /^[a-z_]{1,40}$/.test(key))
        path += path === '' ? key : `.${key}`;
      else path += path === '' ? '<key>' : '.<key>';
    }
    return `${path === '' ? '(root)' : path} (${issueCode(issue)})`;
  });
  const more = issues.length > shown.length ? ` and ${issues.length - shown.length} more` : '';
  return `${shown.join(', ')}${more}`;
}
