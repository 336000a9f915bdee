/**
 * Copies Swagger UI from node_modules/swagger-ui-dist into public/docs/vendor/ (gitignored), where
 * Workers static assets serve it for the /docs page (src/routes/docs.ts). Run by `npm install`
 * (the `prepare` script), so a fresh clone has it before `wrangler dev` or `wrangler deploy`, and
 * again before `npm start` and `npm run test:browser`, so an upgraded package is never served stale.
 *
 *   npx tsx scripts/docs-assets.ts
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the page loads, the bundle's license file it names, and the package's own notices. */
export const VENDOR_FILES = [
  'swagger-ui-bundle.js',
  'swagger-ui-bundle.js.LICENSE.txt',
  'swagger-ui-bundle.js.map',
  'swagger-ui.css',
  'swagger-ui.css.map',
  'favicon-32x32.png',
  'LICENSE',
  'NOTICE',
] as const;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VENDOR_DIR = join(root, 'public/docs/vendor');

export function copyDocsAssets(): { version: string; files: number } {
  const pkg = createRequire(join(root, 'package.json')).resolve('swagger-ui-dist/package.json');
  const from = dirname(pkg);
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  rmSync(VENDOR_DIR, { recursive: true, force: true });
  mkdirSync(VENDOR_DIR, { recursive: true });
  for (const file of VENDOR_FILES) copyFileSync(join(from, file), join(VENDOR_DIR, file));
  return { version, files: VENDOR_FILES.length };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { version, files } = copyDocsAssets();
  console.log(`docs assets: swagger-ui-dist ${version}, ${files} files -> public/docs/vendor/`);
}
