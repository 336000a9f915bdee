/**
 * Step 1: build the gateway, the hello-world baseline, the peer and (when cold starts are
 * measured) the floors exactly as deployed (wrangler --dry-run), and record the bundle sizes.
 */
import { resolve } from 'node:path';
import { writeStaticDocuments } from '../floor/candidates/generate-static';
import { buildWorker, type Bundle } from '../lib/build';
import type { PartId } from '../lib/options';
import type { Figures } from '../lib/results';
import {
  BUILD_DIR,
  GATEWAY_PARTS,
  plainQuick,
  root,
  say,
  skip,
  wantsRequiredWork,
  type Context,
} from './context';

/**
 * The stack's floor: minimal workers of the mandated stack (bench/floor/<dir>/), whose cold
 * starts are measured beside the gateway's, so that the gateway's cold start splits into what the
 * stack costs anyway and what our code adds.
 */
const FLOORS = [
  { dir: 'hono', extra: 'floor_hono_cold_extra_ms', gzip: 'floor_hono_gzip_bytes' },
  {
    dir: 'zod-openapi',
    extra: 'floor_zod_openapi_cold_extra_ms',
    gzip: 'floor_zod_openapi_gzip_bytes',
  },
  {
    dir: 'zod-openapi-jose',
    extra: 'floor_zod_openapi_jose_cold_extra_ms',
    gzip: 'floor_zod_openapi_jose_gzip_bytes',
  },
] as const satisfies ReadonlyArray<{ dir: string; extra: keyof Figures; gzip: keyof Figures }>;

export type Floor = (typeof FLOORS)[number];

/**
 * The schema-stack candidates of issue 14 (bench/floor/schema-<dir>/): one route, the same in
 * each (bench/floor/candidates/shape.ts), validated and documented by a different library, so
 * that their cold starts compare the libraries alone. `schema-none` (checks by hand) is the
 * route's own cost on Hono, not a candidate.
 */
const CANDIDATES = [
  { dir: 'schema-none', label: 'no schema library (checks by hand, static document)' },
  { dir: 'schema-zod-openapi', label: '(d) @hono/zod-openapi (today)' },
  { dir: 'schema-zod-mini', label: '(b) zod/mini + standard-validator + z.toJSONSchema' },
  { dir: 'schema-valibot', label: '(a1) valibot + standard-validator + to-json-schema' },
  { dir: 'schema-valibot-hono-openapi', label: '(a2) valibot + hono-openapi' },
  { dir: 'schema-static-zod-mini', label: '(c1) zod/mini, document at build time' },
  { dir: 'schema-static-valibot', label: '(c2) valibot, document at build time' },
] as const;

export interface Bundles {
  gateway: Bundle | undefined;
  baseline: Bundle | undefined;
  peer: Bundle | undefined;
  /** bench/required/worker.ts: the required work of an L1 hit, no gateway. */
  required: Bundle | undefined;
  /** The floors that built (only when cold starts are measured). */
  floors: Array<{ floor: Floor; bundle: Bundle }>;
  /** The schema-stack candidates that built; `index` is theirs in ctx.candidates. */
  candidates: Array<{ index: number; bundle: Bundle }>;
}

/** Builds one worker; if it fails, says why and marks `needers` as not run. */
async function buildOne(
  ctx: Context,
  name: string,
  config: string,
  needers: readonly PartId[],
): Promise<Bundle | undefined> {
  say(`building ${name} (wrangler deploy --dry-run --config ${config})`);
  try {
    return await buildWorker(root, name, resolve(root, config), resolve(BUILD_DIR, name));
  } catch (e) {
    const reason = `the ${name} bundle did not build: ${(e as Error).message.split('\n').slice(0, 6).join(' ')}`;
    say(reason);
    skip(ctx, needers, reason);
    return undefined;
  }
}

const COLD_PARTS: readonly PartId[] = ['startup', 'floors'];

async function buildFloors(ctx: Context): Promise<Bundles['floors']> {
  const built: Bundles['floors'] = [];
  for (const floor of FLOORS) {
    const config = `bench/floor/${floor.dir}/wrangler.toml`;
    const bundle = await buildOne(ctx, `floor-${floor.dir}`, config, COLD_PARTS);
    if (bundle === undefined) continue;
    built.push({ floor, bundle });
    ctx.figures[floor.gzip] = bundle.gzipBytes;
  }
  return built;
}

async function buildCandidates(ctx: Context): Promise<Bundles['candidates']> {
  // Candidate (c)'s documents, generated from the schemas as a deploy's build step would.
  for (const p of await writeStaticDocuments()) say(`generated ${p}`);
  const built: Bundles['candidates'] = [];
  for (const { dir, label } of CANDIDATES) {
    const bundle = await buildOne(
      ctx,
      `floor-${dir}`,
      `bench/floor/${dir}/wrangler.toml`,
      COLD_PARTS,
    );
    if (bundle === undefined) continue;
    const index = ctx.candidates.length;
    ctx.candidates.push({
      floor: dir,
      label,
      gzip_bytes: bundle.gzipBytes,
      startup_ms: null,
      first_ms: null,
      cold_extra_ms: null,
      doc_first_ms: null,
      vs_hono_floor: null,
      startup_node_ms: null,
      node_vs_hono_floor: null,
    });
    built.push({ index, bundle });
  }
  return built;
}

export async function buildBundles(ctx: Context): Promise<Bundles> {
  const gatewayParts: readonly PartId[] = [...GATEWAY_PARTS, 'bundle', 'startup'];
  const wanted = (...parts: PartId[]) => parts.some((p) => ctx.wants(p));
  const gateway = wanted(...gatewayParts)
    ? await buildOne(ctx, 'gateway', ctx.o.gatewayConfig ?? 'wrangler.toml', gatewayParts)
    : undefined;
  const baseline = wanted('baseline', ...COLD_PARTS)
    ? await buildOne(ctx, 'baseline', 'bench/baseline/wrangler.toml', ['baseline', ...COLD_PARTS])
    : undefined;
  const peer = wanted('peer', 'bundle')
    ? await buildOne(ctx, 'peer', 'bench/peer/wrangler.toml', ['peer'])
    : undefined;
  const required = wantsRequiredWork(ctx)
    ? await buildOne(ctx, 'required', 'bench/required/wrangler.toml', [
        'required_introspect',
        'required_forward_auth',
        'hot_path',
      ])
    : undefined;
  const f = ctx.figures;
  if (gateway !== undefined) {
    f.bundle_raw_bytes = gateway.rawBytes;
    f.bundle_gzip_bytes = gateway.gzipBytes;
    ctx.bundleComposition = gateway.composition.slice(0, 10);
  }
  if (peer !== undefined) f.peer_bundle_gzip_bytes = peer.gzipBytes;
  if (baseline !== undefined) f.baseline_bundle_gzip_bytes = baseline.gzipBytes;
  const cold = wanted(...COLD_PARTS);
  const floors = cold ? await buildFloors(ctx) : [];
  // The schema-stack candidates are issue 14's decision record: a full run or `--only floors`
  // measures them; a plain `--quick` leaves them out to stay within its minute.
  const candidates = cold && !plainQuick(ctx) ? await buildCandidates(ctx) : [];
  return { gateway, baseline, peer, required, floors, candidates };
}
