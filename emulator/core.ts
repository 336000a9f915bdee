/**
 * The emulator's mutable parts shared by the API and admin routes: configuration, the state,
 * faults, call counts, the rate-limit window, the clock and the pending hangs.
 */
import { FaultBook, OPERATIONS, type OperationName } from './faults';
import { OAuthBook } from './oauth-codes';
import { RateWindow, type BodyStream } from './responses';
import { EmulatorState } from './state';
import { UserBook } from './users';
import { featuresOf, parseVersion, type GhesVersion } from './versions';

export type BadCredentialsStatus = 404 | 401;

export interface EmulatorConfig {
  version: GhesVersion;
  badCredentialsStatus: BadCredentialsStatus;
  /** `x-ratelimit-limit` of the hourly window. */
  rateLimit: number;
  /** Origin used in `url` fields; the request's own origin when undefined. */
  baseUrl: string | undefined;
  /** PKCE on the web flow; undefined follows the release (no GHES release has it). */
  pkce: boolean | undefined;
  /** Where GitHub App webhooks are delivered (emulator/webhooks.ts); undefined: nowhere. */
  webhookUrl?: string | undefined;
}

/** Wire form of the configuration (admin API). */
export interface EmulatorConfigView {
  version: string;
  bad_credentials_status: BadCredentialsStatus;
  rate_limit: number;
  base_url: string | null;
  /** null: as the release (off for every GHES release); true: github.com's S256 PKCE. */
  pkce: boolean | null;
  /** Where GitHub App webhooks go; null: not delivered. */
  webhook_url: string | null;
}

export function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * How the emulator lets time pass: latency, and hangs (`ms` = Infinity: until `signal` aborts).
 * Tests inject their virtual clock's `sleep` (test/helpers/clock.ts); the server uses real time.
 */
export type Sleep = (ms: number, signal: AbortSignal | undefined) => Promise<void>;

/** A connection the emulator closes without answering (a network error for the caller). */
export class ConnectionDropped extends Error {
  constructor() {
    super('GHES emulator dropped the connection');
    this.name = 'ConnectionDropped';
  }
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** setTimeout that ends early (rejecting with the abort reason) when `signal` fires. */
export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    if (ms <= 0) return resolve();
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    // Infinity: no timer at all, only the abort ends it.
    const timer =
      ms === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function emptyCalls(): Record<OperationName, number> {
  return Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<OperationName, number>;
}

export class EmulatorCore {
  readonly state = new EmulatorState(() => this.config.version);
  readonly faults = new FaultBook();
  readonly rate: RateWindow;
  /** Passwords and two-factor settings (Authorizations API). */
  readonly users = new UserBook();
  /** Web-flow codes and refresh tokens. */
  readonly oauth = new OAuthBook();
  calls: Record<OperationName, number> = emptyCalls();
  /** Generated (`body_bytes`) answers served so far, with how far each was read. */
  bodyStreams: BodyStream[] = [];
  private readonly hangs = new Set<() => void>();

  constructor(
    public config: EmulatorConfig,
    readonly now: () => number,
    readonly sleep: Sleep,
  ) {
    this.rate = new RateWindow(config.rateLimit);
  }

  count(op: OperationName): void {
    this.calls[op] += 1;
  }

  /**
   * Never answers: time passes (the injected `sleep`, for ever) until the request's signal
   * aborts (rejects with its reason) or the hang is released (a dropped connection).
   */
  hang(signal: AbortSignal | undefined): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const release = (): void => {
        this.hangs.delete(release);
        reject(new ConnectionDropped());
      };
      this.hangs.add(release);
      this.sleep(Number.POSITIVE_INFINITY, signal).then(release, (e: unknown) => {
        this.hangs.delete(release);
        reject(e);
      });
    });
  }

  /** Ends every hanging request as a dropped connection (used on shutdown). */
  releaseHangs(): number {
    const pending = [...this.hangs];
    for (const release of pending) release();
    return pending.length;
  }

  /** Whether the web flow checks PKCE now. */
  get pkce(): boolean {
    return this.config.pkce ?? featuresOf(this.config.version).pkce;
  }

  get hanging(): number {
    return this.hangs.size;
  }

  configView(): EmulatorConfigView {
    return {
      version: this.config.version.name,
      bad_credentials_status: this.config.badCredentialsStatus,
      rate_limit: this.config.rateLimit,
      base_url: this.config.baseUrl ?? null,
      pkce: this.config.pkce ?? null,
      webhook_url: this.config.webhookUrl ?? null,
    };
  }

  /** Applies a wire-form patch; returns an error message instead of throwing on bad input. */
  configure(patch: Record<string, unknown>): string | undefined {
    const next: EmulatorConfig = { ...this.config };
    for (const [key, value] of Object.entries(patch)) {
      switch (key) {
        case 'version': {
          const v = typeof value === 'string' ? parseVersion(value) : undefined;
          if (!v) return 'version must look like "3.22" and be 2.18 or later';
          next.version = v;
          break;
        }
        case 'bad_credentials_status':
          if (value !== 404 && value !== 401) return 'bad_credentials_status must be 404 or 401';
          next.badCredentialsStatus = value;
          break;
        case 'rate_limit':
          if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1)) {
            return 'rate_limit must be a positive integer';
          }
          next.rateLimit = value;
          break;
        case 'base_url':
          if (value !== null && !(typeof value === 'string' && isAbsoluteUrl(value))) {
            return 'base_url must be an absolute URL or null';
          }
          next.baseUrl = value === null ? undefined : new URL(value).origin;
          break;
        case 'pkce':
          if (value !== null && typeof value !== 'boolean') return 'pkce must be a boolean or null';
          next.pkce = value ?? undefined;
          break;
        case 'webhook_url':
          if (
            value !== null &&
            !(typeof value === 'string' && /^https?:\/\//.test(value) && isAbsoluteUrl(value))
          )
            return 'webhook_url must be an absolute http(s) URL or null';
          next.webhookUrl = value ?? undefined;
          break;
        default:
          return `unknown config field ${key}`;
      }
    }
    this.config = next;
    this.rate.limit = next.rateLimit;
    return undefined;
  }
}
