/**
 * The layering of docs/architecture.md, checked on the real import graph (read in Node by
 * test/global-setup.ts): no circles anywhere, imports in src/ point down the layers only, the
 * top-level folders import only what they may, and no file in src/ outgrows one job.
 */
import { describe, expect, inject, it } from 'vitest';

type Graph = Record<string, { imports: string[]; lines: number }>;

/** src/ layers, top (entry) to bottom (kernel); a file may import its own layer or lower ones. */
const LAYERS: ReadonlyArray<readonly [number, readonly string[]]> = [
  [7, ['src/index.ts']],
  [6, ['src/app.ts']],
  [5, ['src/routes/']],
  [4, ['src/context.ts']],
  [3, ['src/tokens/', 'src/auth/', 'src/introspection/', 'src/middleware/']],
  [2, ['src/cache/', 'src/ghes/']],
  [1, ['src/config/']],
  [0, ['src/lib/']],
];

/** What each top-level folder may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  src: [],
  emulator: [],
  scripts: ['src', 'emulator'],
  bench: ['src', 'emulator'],
};

const MAX_SRC_LINES = 300;

function layerOf(file: string): number | undefined {
  for (const [rank, prefixes] of LAYERS)
    if (prefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p))) return rank;
  return undefined;
}

/** Strongly connected components with more than one member, or a file importing itself. */
function circles(edges: Record<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges[v] ?? []) {
      if (!(w in edges)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (edges[v] ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of Object.keys(edges)) if (!index.has(v)) visit(v);
  return found;
}

/** Imports in src/ that point up a layer, or into a file no layer holds. */
function upwardArrows(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, { imports }] of Object.entries(graph)) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const to of imports) {
      if (!to.startsWith('src/')) continue;
      const rank = layerOf(to);
      if (rank === undefined || rank > from) out.push(`${file} → ${to}`);
    }
  }
  return out;
}

/** Imports that leave a top-level folder for one it may not use (test/ above all). */
function forbiddenCrossings(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, { imports }] of Object.entries(graph)) {
    const home = file.split('/')[0] as string;
    const allowed = [home, ...(MAY_IMPORT[home] ?? [])];
    for (const to of imports) {
      const top = to.split('/')[0] as string;
      // Config files at the root (wrangler.toml, package.json) are data, not code.
      if (!to.includes('/')) continue;
      if (!allowed.includes(top)) out.push(`${file} → ${to}`);
    }
  }
  return out;
}

/** The folder graph of src/ (src/routes → src/cache …), to find circles between folders. */
function folderEdges(graph: Graph): Record<string, string[]> {
  const folder = (f: string) => f.split('/').slice(0, 2).join('/').replace(/\.ts$/, '');
  const edges: Record<string, Set<string>> = {};
  for (const [file, { imports }] of Object.entries(graph)) {
    if (!file.startsWith('src/')) continue;
    const from = folder(file);
    edges[from] ??= new Set();
    for (const to of imports)
      if (to.startsWith('src/') && folder(to) !== from) edges[from].add(folder(to));
  }
  return Object.fromEntries(Object.entries(edges).map(([k, v]) => [k, [...v]]));
}

describe('the checks themselves', () => {
  const synthetic: Graph = {
    'src/lib/a.ts': { imports: ['src/routes/x.ts'], lines: 1 },
    'src/routes/x.ts': { imports: ['src/lib/a.ts', 'test/helpers/clock.ts'], lines: 1 },
    'emulator/core.ts': { imports: ['src/lib/a.ts'], lines: 1 },
  };

  it('find a circle, an upward arrow and a forbidden crossing', () => {
    const edges = Object.fromEntries(Object.entries(synthetic).map(([k, v]) => [k, v.imports]));
    expect(circles(edges)).toStrictEqual([['src/lib/a.ts', 'src/routes/x.ts']]);
    expect(upwardArrows(synthetic)).toStrictEqual(['src/lib/a.ts → src/routes/x.ts']);
    expect(forbiddenCrossings(synthetic)).toStrictEqual([
      'src/routes/x.ts → test/helpers/clock.ts',
      'emulator/core.ts → src/lib/a.ts',
    ]);
  });

  it('find nothing in a graph that points down', () => {
    const clean: Graph = {
      'src/routes/x.ts': { imports: ['src/lib/a.ts'], lines: 1 },
      'src/lib/a.ts': { imports: [], lines: 1 },
    };
    expect(circles({ 'src/routes/x.ts': ['src/lib/a.ts'], 'src/lib/a.ts': [] })).toStrictEqual([]);
    expect(upwardArrows(clean)).toStrictEqual([]);
    expect(forbiddenCrossings(clean)).toStrictEqual([]);
  });
});

describe('the import graph', () => {
  const graph = inject('importGraph');

  it('was read (src/, emulator/, scripts/ and bench/ are all in it)', () => {
    for (const top of ['src/', 'emulator/', 'scripts/', 'bench/'])
      expect(
        Object.keys(graph).some((f) => f.startsWith(top)),
        top,
      ).toBe(true);
    expect(graph['src/app.ts']?.imports).toContain('src/context.ts');
  });

  it('has no circles between files', () => {
    const edges = Object.fromEntries(Object.entries(graph).map(([k, v]) => [k, v.imports]));
    expect(circles(edges)).toStrictEqual([]);
  });

  it('has no circles between the folders of src/', () => {
    expect(circles(folderEdges(graph))).toStrictEqual([]);
  });

  it('places every src/ file in a layer, and imports point down the layers only', () => {
    const unplaced = Object.keys(graph).filter(
      (f) => f.startsWith('src/') && layerOf(f) === undefined,
    );
    expect(unplaced).toStrictEqual([]);
    expect(upwardArrows(graph)).toStrictEqual([]);
  });

  it('keeps src/, emulator/, scripts/ and bench/ to what each may import (never test/)', () => {
    expect(forbiddenCrossings(graph)).toStrictEqual([]);
  });

  it(`has no file in src/ over ${MAX_SRC_LINES} lines (generated tables aside)`, () => {
    const long = Object.entries(graph)
      .filter(
        ([f, { lines }]) =>
          f.startsWith('src/') && !f.includes('.generated.') && lines > MAX_SRC_LINES,
      )
      .map(([f, { lines }]) => `${f}: ${lines}`);
    expect(long).toStrictEqual([]);
  });
});
