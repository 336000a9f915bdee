/**
 * GitHub webhook deliveries are authenticated by `X-Hub-Signature-256`: `sha256=` + the hex
 * HMAC-SHA-256 of the raw body, keyed with the app's webhook secret (GitHub docs, "Validating
 * webhook deliveries"). `crypto.subtle.verify` compares in constant time; the key is imported once
 * per secret and kept as a settled value (docs/cache.md explains why not a shared promise).
 *
 * Trust boundary: the secret is used here and nowhere else; it is never logged or answered.
 */

const HEADER_FORMAT = /^sha256=([0-9a-f]{64})$/;

export class WebhookVerifier {
  readonly #keys = new Map<string, CryptoKey>();

  /** True only for a well-formed header whose MAC matches `body` under `secret`. */
  async verify(secret: string, header: string | undefined, body: Uint8Array): Promise<boolean> {
    if (header === undefined) return false;
    // GitHub sends lower-case hex; accept an upper-case copy of it too.
    const match = HEADER_FORMAT.exec(header.trim().toLowerCase());
    if (match === null) return false;
    const mac = hexBytes(match[1] as string);
    return crypto.subtle.verify('HMAC', await this.#key(secret), mac, body);
  }

  async #key(secret: string): Promise<CryptoKey> {
    let key = this.#keys.get(secret);
    if (key === undefined) {
      key = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      );
      this.#keys.set(secret, key);
    }
    return key;
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** `sha256=<hex>` for `body` under `secret`: what GHES sends (the emulator and tests sign so). */
export async function signWebhookBody(secret: string, body: Uint8Array | string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, bytes));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
