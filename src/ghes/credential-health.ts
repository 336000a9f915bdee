/**
 * Detects a wrong or rotated client secret that GHES reports as 404.
 *
 * GHES answers a missing or bad Basic credential on the app-token endpoints with 404, exactly
 * like an unknown token. Left alone, a rotated secret would make every check "not found" and
 * the negative cache would spread that verdict to every isolate. So, per app and per isolate:
 * a run of `threshold` consecutive 404 checks with no positive answer in between marks the app
 * suspect — an `error` log line `ghes.credentials_suspect` alerts operators, and negative
 * caching stops for that app until GHES confirms any token again.
 *
 * Trade-off: a caller fishing for tokens also produces a run of 404s and thus turns negative
 * caching off for a while; the per-caller rate limit on introspection bounds that load.
 * Pure state machine; nothing here sees a token.
 */
import { ConfigurationError } from '../lib/errors';
import type { Logger } from '../lib/log';

export interface CredentialHealthOptions {
  /** Consecutive 404s, with no positive answer between, that make an app suspect. */
  threshold: number;
  log: Logger;
}

interface AppHealth {
  consecutiveNotFound: number;
  suspect: boolean;
}

export class CredentialHealth {
  readonly #apps = new Map<string, AppHealth>();

  constructor(private readonly options: CredentialHealthOptions) {
    if (!Number.isInteger(options.threshold) || options.threshold < 1) {
      throw new ConfigurationError('CredentialHealth.threshold', 'must be a positive integer');
    }
  }

  #state(app: string): AppHealth {
    let s = this.#apps.get(app);
    if (s === undefined) {
      s = { consecutiveNotFound: 0, suspect: false };
      this.#apps.set(app, s);
    }
    return s;
  }

  /** GHES confirmed a token for this app: its credentials work. */
  onPositive(app: string): void {
    const s = this.#state(app);
    if (s.suspect) {
      this.options.log({ level: 'warn', event: 'ghes.credentials_recovered', app });
    }
    s.consecutiveNotFound = 0;
    s.suspect = false;
  }

  onNotFound(app: string): void {
    const s = this.#state(app);
    s.consecutiveNotFound += 1;
    if (!s.suspect && s.consecutiveNotFound >= this.options.threshold) {
      s.suspect = true;
      this.options.log({
        level: 'error',
        event: 'ghes.credentials_suspect',
        app,
        consecutive_not_found: s.consecutiveNotFound,
        reason:
          'GHES answered 404 to every recent check for this app; the client secret may be wrong or rotated. Negative caching is off for this app until a check succeeds.',
      });
    }
  }

  negativeCachingAllowed(app: string): boolean {
    return !(this.#apps.get(app)?.suspect ?? false);
  }

  isSuspect(app: string): boolean {
    return this.#apps.get(app)?.suspect ?? false;
  }
}
