/**
 * Detects a wrong or rotated client secret, which GHES reports as 404 (like an unknown token) on
 * the app-token endpoints. Left alone, every check would be "not found" and the negative cache
 * would spread that to every isolate. So, per app and isolate, `threshold` consecutive 404s with
 * no positive answer between mark the app suspect: an `error` log `ghes.credentials_suspect`,
 * and no negative caching for it until GHES confirms a token again.
 *
 * A caller fishing for tokens also trips it; the per-caller introspection rate limit bounds that.
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
