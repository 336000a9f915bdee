/**
 * Every `](#anchor)` and `](file.md#anchor)` link in README.md and docs/*.md names a heading that
 * exists, by GitHub's slug rules (node:test; `npm run test:docs`, part of `npm test`).
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Markdown outside fenced code blocks (a `# comment` in a shell block is no heading). */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m !== null) {
      const marker = m[1] as string;
      if (fence === undefined) fence = marker;
      else if (marker.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/**
 * GitHub's heading ids (github-slugger): the rendered text, lower-cased, with every character
 * but letters, digits, marks, `_`, `-` and spaces removed, spaces turned into `-`; a repeated
 * slug gets `-1`, `-2` ….
 */
export function githubSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(\s+#+\s*)?$/.exec(line);
    if (heading === null) continue;
    const text = (heading[1] as string)
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
      .replace(/<[^>]+>/g, '') // inline HTML tags
      .replace(/[`*]/g, ''); // code spans and emphasis marks
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** `[text](target#anchor)` links outside code: [target file ('' = same file), anchor]. */
export function anchorLinks(markdown: string): Array<{ file: string; anchor: string }> {
  const links: Array<{ file: string; anchor: string }> = [];
  for (const line of prose(markdown)) {
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const m of withoutCode.matchAll(/\]\(([^)\s#]*)#([^)\s]+)\)/g)) {
      const file = m[1] as string;
      if (/^[a-z]+:/i.test(file)) continue; // https:, mailto: …
      links.push({ file, anchor: decodeURIComponent(m[2] as string) });
    }
  }
  return links;
}

function docs(): string[] {
  return [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
}

describe('GitHub heading slugs', () => {
  it('follow github-slugger on the headings these docs use', () => {
    const slugs = githubSlugs(
      [
        "## The gateway's own credential",
        '### nginx `auth_request`',
        '### Pin the app in the proxy; never let the client choose it',
        '## Introspection (RFC 7662)',
        '### Envoy `ext_authz` (HTTP service)',
        '## Cache',
        '## Cache',
        '```sh',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    assert.deepEqual(
      [...slugs],
      [
        'the-gateways-own-credential',
        'nginx-auth_request',
        'pin-the-app-in-the-proxy-never-let-the-client-choose-it',
        'introspection-rfc-7662',
        'envoy-ext_authz-http-service',
        'cache',
        'cache-1',
      ],
    );
  });
  it('finds a link to a missing section', () => {
    const markdown = '# Title\n\nSee [there](#nowhere) and [here](#title).\n';
    const slugs = githubSlugs(markdown);
    const broken = anchorLinks(markdown).filter((l) => !slugs.has(l.anchor));
    assert.deepEqual(broken, [{ file: '', anchor: 'nowhere' }]);
  });
});

describe('anchor links in README.md and docs/*.md resolve to headings', () => {
  for (const doc of docs()) {
    it(doc, () => {
      const markdown = readFileSync(join(root, doc), 'utf8');
      const broken: string[] = [];
      for (const link of anchorLinks(markdown)) {
        const target =
          link.file === '' ? doc : relative(root, normalize(join(root, dirname(doc), link.file)));
        if (!target.endsWith('.md')) continue; // an anchor into source code: a line, not a heading
        if (!existsSync(join(root, target))) {
          broken.push(`${link.file}#${link.anchor}: no file ${target}`);
          continue;
        }
        const slugs = githubSlugs(readFileSync(join(root, target), 'utf8'));
        if (!slugs.has(link.anchor))
          broken.push(`${link.file}#${link.anchor}: no such heading in ${target}`);
      }
      assert.deepEqual(broken, []);
    });
  }
});
