/**
 * Reading GHES's answers (src/ghes/answer.ts): bounded, UTF-8, and described without values when
 * they fail their schema.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RESPONSE_BYTES, describeIssues } from '../../src/ghes/answer';
import { checkToken } from '../../src/ghes/check-token';
import { deleteToken } from '../../src/ghes/delete-token';
import { resetToken } from '../../src/ghes/reset-token';
import { AuthorizationSchema } from '../../src/ghes/types';
import {
  TOKEN,
  authorization,
  publicAuthorization,
  expectGatewayError,
  harness,
  STREAM_CHUNK_BYTES,
  streamed,
} from './harness';

describe('answers are read with a size bound', () => {
  const LIMIT = 16_384;
  const AUTH = JSON.stringify(authorization());

  it('an answer of exactly maxResponseBytes is read', async () => {
    const body = streamed(200, LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(body.stats).toEqual({ pulled: LIMIT, cancelled: false });
  });

  it('one byte more is upstream-error, never retried', async () => {
    const body = streamed(200, LIMIT + 1, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.reason).toContain(`over ${LIMIT} bytes`);
    expect(err.detail).toBe(`GHES answered with more than ${LIMIT} bytes`);
    expect(h.calls).toHaveLength(1);
  });

  it('reading stops at the first chunk past the bound, and the stream is cancelled', async () => {
    const body = streamed(200, 10 * LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats).toEqual({ pulled: LIMIT + STREAM_CHUNK_BYTES, cancelled: true });
  });

  it('400 MB is refused after reading about the bound (1 MiB by default), not 400 MB', async () => {
    const body = streamed(200, 400 * 1024 * 1024, { prefix: AUTH });
    const h = harness([body.step]);
    expect(h.ctx.maxResponseBytes).toBeUndefined();
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats.cancelled).toBe(true);
    expect(body.stats.pulled).toBeGreaterThan(DEFAULT_MAX_RESPONSE_BYTES);
    expect(body.stats.pulled).toBeLessThanOrEqual(DEFAULT_MAX_RESPONSE_BYTES + STREAM_CHUNK_BYTES);
  });

  it('a content-length over the bound is refused before reading anything', async () => {
    const body = streamed(200, 400 * 1024 * 1024, { prefix: AUTH, contentLength: true });
    const h = harness([body.step]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats).toEqual({ pulled: 0, cancelled: true });
  });

  it('an oversized reset answer: GHES reset the token, the outcome is unknown', async () => {
    const body = streamed(200, 2 * LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(err.mayHaveApplied).toBe(true);
    expect(body.stats.cancelled).toBe(true);
  });

  it('an oversized delete answer is upstream-error with mayHaveApplied, never success', async () => {
    const body = streamed(200, 2 * LIMIT);
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
    expect(body.stats.cancelled).toBe(true);
  });

  it('an oversized error answer still maps by its status, with its body unread', async () => {
    const body = streamed(422, 2 * LIMIT, { prefix: '{"message":"Validation Failed"' });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(err.detail).toBe('GHES rejected the request as invalid');
    expect(body.stats.cancelled).toBe(true);
  });

  it('a 2xx that is not UTF-8 is upstream-error', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"id":'), 0xff, 0xfe, 0x7d]);
    const h = harness([async () => new Response(bytes, { status: 200 })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.reason).toContain('not UTF-8');
  });
});

describe('describeIssues', () => {
  it('names paths and codes, never values, and never a key GHES made up', () => {
    const parsed = v.safeParse(AuthorizationSchema, {
      ...authorization(),
      scopes: ['ok', 42],
      installation: {
        permissions: { gho_16C7e42F292c6912E7710c838347Ae178B4a: 'read' },
        repository_selection: 'all',
        single_file_name: null,
        repositories_url: 'u',
        account: { login: 'o', id: 1 },
      },
    });
    expect(parsed.success).toBe(false);
    const text = parsed.success ? '' : describeIssues(parsed.issues);
    expect(text).toContain('scopes[1] (invalid_type)');
    expect(text).toContain('installation.permissions');
    expect(text).not.toContain('gho_');
    expect(text).not.toContain('42');
  });

  it('says how many more issues there were past the first three', () => {
    const parsed = v.safeParse(AuthorizationSchema, {});
    const text = parsed.success ? '' : describeIssues(parsed.issues);
    expect(text).toMatch(
      /^id \(invalid_type\), url \(invalid_type\), scopes \(invalid_type\) and \d+ more$/,
    );
  });
});
