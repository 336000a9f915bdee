/** X-Hub-Signature-256 verification (src/auth/webhook-signature.ts). */
import { describe, expect, it } from 'vitest';
import { signWebhookBody, WebhookVerifier } from '../../src/auth/webhook-signature';

const SECRET = "It's a Secret to Everybody";
const body = new TextEncoder().encode('Hello, World!');

describe('WebhookVerifier', () => {
  it('matches the test vector in GitHub’s "Validating webhook deliveries"', async () => {
    const expected = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(await signWebhookBody(SECRET, body)).toBe(expected);
    expect(await new WebhookVerifier().verify(SECRET, expected, body)).toBe(true);
  });

  it('accepts upper-case hex and surrounding blanks', async () => {
    const sig = await signWebhookBody(SECRET, body);
    const upper = `sha256=${sig.slice(7).toUpperCase()}`;
    expect(await new WebhookVerifier().verify(SECRET, ` ${upper} `, body)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['sha1', 'sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0'],
    ['no prefix', '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'],
    ['short', 'sha256=757107ea0eb2509fc211221cce984b8a'],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['one bit off', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e16'],
  ])('refuses a signature that is %s', async (_, header) => {
    expect(await new WebhookVerifier().verify(SECRET, header, body)).toBe(false);
  });

  it('refuses the right signature under another secret or over another body', async () => {
    const sig = await signWebhookBody(SECRET, body);
    const v = new WebhookVerifier();
    expect(await v.verify('another secret entirely', sig, body)).toBe(false);
    expect(await v.verify(SECRET, sig, new TextEncoder().encode('Hello, World?'))).toBe(false);
    expect(await v.verify(SECRET, sig, body)).toBe(true);
  });
});
