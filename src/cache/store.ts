/**
 * Storing a load's answer in L1 and KV. A positive answer goes to KV only if no revocation has
 * overtaken it: the token's tombstone is read first (its own key, `v1:revoked:`, which no answer
 * can overwrite), and a positive whose load began before it is dropped, here and in L1. Readers
 * check the tombstone too, so this read is not what keeps a revoked token inactive elsewhere; it
 * keeps the late positive out of KV and corrects this isolate's L1 as soon as it can.
 */
import type { CacheEntry } from './entry';
import { kvExpirationTtlS, retainUntilMs, revokedBy } from './policy';
import type { FlightContext, FlightRequest } from './types';

/** `revoked`: a tombstone in KV overtook the answer, which was dropped. */
export type Stored = 'stored' | 'not-stored' | 'revoked';

/** Store in L1 and KV. With `waitUntil`, the KV part runs after the answer. */
export async function store(
  ctx: FlightContext,
  req: FlightRequest,
  entry: CacheEntry,
  now: number,
): Promise<Stored> {
  const { key, token, tokenId } = req;
  // Last line of defence for the rule that no token reaches storage: a loader that put the
  // raw token anywhere in the answer (a bug) gets nothing cached.
  if (
    entry.kind === 'positive' &&
    token.length >= 16 &&
    JSON.stringify(entry.result.authorization).includes(token)
  ) {
    ctx.log({ level: 'error', event: 'cache.secret_in_value', token_id: tokenId });
    return 'not-stored';
  }
  if (ctx.l1.enabled) ctx.l1.set(key, entry);
  if (!ctx.kv.enabled) return ctx.l1.enabled ? 'stored' : 'not-stored';
  const write = writeUnlessRevoked(ctx, req, entry, kvExpirationTtlS(now, retainUntilMs(entry)));
  if (req.waitUntil !== undefined) {
    req.waitUntil(write);
    return 'stored';
  }
  const kv = await write;
  return kv === 'not-stored' && ctx.l1.enabled ? 'stored' : kv;
}

async function writeUnlessRevoked(
  ctx: FlightContext,
  req: FlightRequest,
  entry: CacheEntry,
  ttlS: number,
): Promise<Stored> {
  const { app, key, tokenId } = req;
  if (entry.kind === 'positive') {
    const read = await ctx.kv.readTombstone(
      req.revokedKey,
      app.clientId,
      tokenId,
      ctx.policy,
      ctx.clock.now(),
    );
    // An unreadable tombstone proves nothing either way; readers check it themselves.
    const tombstone = read.ok ? read.value : undefined;
    if (tombstone !== undefined && revokedBy(entry, tombstone, ctx.clock.now())) {
      ctx.l1.set(key, tombstone);
      ctx.log({ level: 'info', event: 'cache.store_overtaken', app: app.name, token_id: tokenId });
      return 'revoked';
    }
  }
  return (await ctx.kv.writeEntry(key, entry, ttlS, tokenId)) ? 'stored' : 'not-stored';
}
