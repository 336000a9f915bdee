/**
 * Just enough TOML to read wrangler.toml's tables in workerd, where wrangler's own reader does not
 * run: table headers (`[x]`, `[[x]]`, `[env.<name>.x]`) and `key = value` lines, values kept as
 * written; the insides of multi-line `'''` strings are skipped.
 */
export interface WranglerTable {
  /** The table's path without the `env.<name>.` prefix, e.g. `observability`; '' at the top. */
  path: string;
  /** The environment's name, or `(top level)`. */
  env: string;
  values: Map<string, string>;
}

export function wranglerTables(text: string): WranglerTable[] {
  const tables: WranglerTable[] = [{ path: '', env: '(top level)', values: new Map() }];
  let inMultiline = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inMultiline) {
      if (line.includes("'''")) inMultiline = false;
      continue;
    }
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header !== null) {
      const path = (header[1] as string).split('.');
      const scoped = path[0] === 'env';
      tables.push({
        env: scoped ? (path[1] as string) : '(top level)',
        path: (scoped ? path.slice(2) : path).join('.'),
        values: new Map(),
      });
      continue;
    }
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (kv === null) continue;
    const value = kv[2] as string;
    if (value.startsWith("'''") && !value.slice(3).includes("'''")) inMultiline = true;
    (tables.at(-1) as WranglerTable).values.set(kv[1] as string, value);
  }
  return tables;
}
