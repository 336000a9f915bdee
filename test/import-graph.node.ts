/**
 * The project's import graph, read in Node by test/global-setup.ts for test/architecture.test.ts
 * (workerd tests cannot read the file system). Every relative `import`/`export … from`/`import()`
 * of the TypeScript under src/, emulator/, scripts/ and bench/, type-only imports included: a
 * circle of types is still a circle a reader has to follow.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GRAPH_ROOTS = ['src', 'emulator', 'scripts', 'bench'] as const;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts') && !/\.test\.ts$/.test(name))
      out.push(path);
  }
  return out;
}

/** The file an import names, relative to the repository root; undefined outside the repository. */
function target(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec.replace(/\?raw$/, ''));
  for (const candidate of [
    base,
    `${base}.ts`,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    join(base, 'index.ts'),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return relative(root, base);
}

export interface SourceFile {
  imports: string[];
  lines: number;
}

/** File → what it imports and its length (tests are not importers here: they may import anything). */
export function importGraph(): Record<string, SourceFile> {
  const graph: Record<string, SourceFile> = {};
  for (const dir of GRAPH_ROOTS) {
    for (const file of sources(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      const imports = new Set<string>();
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        if (spec === undefined) continue;
        const to = target(file, spec);
        if (to !== undefined) imports.add(to);
      }
      graph[relative(root, file)] = {
        imports: [...imports].sort(),
        lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
      };
    }
  }
  return graph;
}
