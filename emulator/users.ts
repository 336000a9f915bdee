/**
 * Passwords and two-factor authentication of emulated users, for the Authorizations API (GitHub:
 * Basic `login:password`, plus `X-GitHub-OTP` when two-factor authentication is on). Passwords
 * and OTP secrets live only here, in memory: never logged, never in an answer except the admin
 * API's. The one-time password is a TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) of the
 * injected clock, for `sms` users too (GitHub texts them a code; the admin API hands it out).
 */
import { safeEqual } from './tokens';

export type TwoFactor = 'sms' | 'app';

export interface UserCredential {
  /** Secret: never logged. */
  readonly password: string;
  readonly twoFactor: TwoFactor | null;
  readonly otpSecret: Uint8Array<ArrayBuffer>;
}

const OTP_STEP_MS = 30_000;

export class UserBook {
  private readonly byId = new Map<number, UserCredential>();

  set(userId: number, password: string, twoFactor: TwoFactor | null): void {
    const otpSecret = crypto.getRandomValues(new Uint8Array(20));
    this.byId.set(userId, { password, twoFactor, otpSecret });
  }

  get(userId: number): UserCredential | undefined {
    return this.byId.get(userId);
  }

  ids(): number[] {
    return [...this.byId.keys()];
  }

  passwordMatches(userId: number, password: string): boolean {
    const credential = this.byId.get(userId);
    return credential !== undefined && safeEqual(password, credential.password);
  }

  /** The code valid at `now` (only the current 30 s step is accepted). */
  async otp(userId: number, now: number): Promise<string | undefined> {
    const credential = this.byId.get(userId);
    if (!credential?.twoFactor) return undefined;
    return totp(credential.otpSecret, now);
  }

  clear(): void {
    this.byId.clear();
  }
}

/** RFC 6238 TOTP with RFC 4226's dynamic truncation. */
export async function totp(secret: Uint8Array<ArrayBuffer>, now: number): Promise<string> {
  const counter = new DataView(new ArrayBuffer(8));
  counter.setBigUint64(0, BigInt(Math.floor(now / OTP_STEP_MS)));
  const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-1' }, false, [
    'sign',
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, counter.buffer));
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const value =
    (((mac[offset] ?? 0) & 0x7f) << 24) |
    ((mac[offset + 1] ?? 0) << 16) |
    ((mac[offset + 2] ?? 0) << 8) |
    (mac[offset + 3] ?? 0);
  return String(value % 1_000_000).padStart(6, '0');
}
