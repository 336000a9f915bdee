/**
 * How the schema libraries' cost grows with the number of routes (issue 14: before the project
 * adds many): in a fresh Node process per library, the time to import it, to declare N schemas of
 * the candidates' shape (bench/floor/candidates/shape.ts) with distinct field names, and to run
 * each one's first validation (V8 compiling what it runs). Node's V8, not workerd's, and no
 * bundle: read the figures as per-schema growth beside each other, not as a Worker's cold start.
 *
 * `npx tsx bench/floor/candidates/scale.ts [N=40] [processes=5]` prints a table (medians).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GenericSchema } from 'valibot';
import type { ZodMiniType } from 'zod/mini';
import { APP_PATTERN, TOKEN_PATTERN } from './shape';

type Lib = 'zod-openapi' | 'zod-mini' | 'valibot';
const LIBS: readonly Lib[] = ['zod-openapi', 'zod-mini', 'valibot'];

interface Timing {
  importMs: number;
  declareMs: number;
  firstValidateMs: number;
}

/** In this (fresh) process: import `lib`, declare `n` schemas, validate each once. */
async function measure(lib: Lib, n: number): Promise<Timing> {
  const app = new RegExp(APP_PATTERN);
  const token = new RegExp(TOKEN_PATTERN);
  let t = performance.now();
  let declare: (i: number) => unknown;
  let validate: (schema: unknown, body: unknown) => boolean;
  if (lib === 'zod-openapi') {
    const { z } = await import('@hono/zod-openapi');
    declare = (i) =>
      z
        .strictObject({
          [`app${i}`]: z.string().regex(app),
          [`token${i}`]: z.string().regex(token),
          [`scope${i}`]: z.string().optional(),
        })
        .openapi(`Body${i}`);
    validate = (s, b) =>
      (s as { safeParse(x: unknown): { success: boolean } }).safeParse(b).success;
  } else if (lib === 'zod-mini') {
    const z = await import('zod/mini');
    declare = (i) =>
      z.strictObject({
        [`app${i}`]: z.string().check(z.regex(app)),
        [`token${i}`]: z.string().check(z.regex(token)),
        [`scope${i}`]: z.optional(z.string()),
      });
    validate = (s, b) => z.safeParse(s as ZodMiniType, b).success;
  } else {
    const v = await import('valibot');
    declare = (i) =>
      v.strictObject({
        [`app${i}`]: v.pipe(v.string(), v.regex(app)),
        [`token${i}`]: v.pipe(v.string(), v.regex(token)),
        [`scope${i}`]: v.optional(v.string()),
      });
    validate = (s, b) => v.safeParse(s as GenericSchema, b).success;
  }
  const importMs = performance.now() - t;
  t = performance.now();
  const schemas = Array.from({ length: n }, (_, i) => declare(i));
  const declareMs = performance.now() - t;
  t = performance.now();
  schemas.forEach((s, i) => {
    const body = { [`app${i}`]: 'demo', [`token${i}`]: `gho_${'aB3'.repeat(12)}` };
    if (!validate(s, body)) throw new Error(`${lib}: schema ${i} refused a valid body`);
  });
  return { importMs, declareMs, firstValidateMs: performance.now() - t };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const self = fileURLToPath(import.meta.url);
const [, , arg1, arg2, arg3] = process.argv;
if (arg1 === '--child') {
  measure(arg2 as Lib, Number(arg3)).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
} else {
  const n = Number(arg1 ?? 40);
  const processes = Number(arg2 ?? 5);
  const rows: string[] = [
    `library       import ms  declare 1 (ms)  declare ${n} (ms)  per schema (ms)  first validation of ${n} (ms)`,
  ];
  for (const lib of LIBS) {
    const run = (k: number): Timing[] =>
      Array.from({ length: processes }, () => {
        const out = execFileSync(process.execPath, [
          '--import',
          'tsx',
          self,
          '--child',
          lib,
          String(k),
        ]);
        return JSON.parse(out.toString()) as Timing;
      });
    const one = run(1);
    const many = run(n);
    const d1 = median(one.map((r) => r.declareMs));
    const dn = median(many.map((r) => r.declareMs));
    rows.push(
      [
        lib.padEnd(12),
        median(many.map((r) => r.importMs))
          .toFixed(1)
          .padStart(10),
        d1.toFixed(2).padStart(15),
        dn.toFixed(2).padStart(17),
        ((dn - d1) / (n - 1)).toFixed(3).padStart(16),
        median(many.map((r) => r.firstValidateMs))
          .toFixed(2)
          .padStart(29),
      ].join(' '),
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}
