// One runtime: the tests (@cloudflare/vitest-plugin), `npm start` (wrangler dev), the end-to-end
// and soak suites and the bench (miniflare) must run the same workerd, miniflare and wrangler.
// A second version of any of them means npm nested a copy, and a test passed on a runtime the
// gateway does not run on. Checks the installed tree (`npm ls`) and the lock file (every
// platform's entries, also those this machine does not install). Exits 1 on any second version.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const NAMES = ['workerd', 'miniflare', 'wrangler'];
const found = new Map(NAMES.map((n) => [n, new Map()])); // name -> version -> where
const note = (name, version, where) => {
  const versions = found.get(name);
  if (!versions.has(version)) versions.set(version, where);
};

let tree;
try {
  tree = execFileSync('npm', ['ls', ...NAMES, '--all', '--json'], { encoding: 'utf8' });
} catch (e) {
  // npm ls exits 1 on an invalid tree but still prints it; the versions are judged below.
  tree = e.stdout ?? '{}';
}
const walk = (node, path) => {
  for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
    const here = `${path} > ${name}@${dep.version}`;
    if (found.has(name) && dep.version !== undefined) note(name, dep.version, `installed: ${here}`);
    walk(dep, here);
  }
};
walk(JSON.parse(tree), '(root)');

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
for (const [path, meta] of Object.entries(lock.packages ?? {})) {
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  if (found.has(name)) note(name, meta.version, `package-lock.json: ${path}`);
  // The platform binaries must match workerd's own version too.
  if (name.startsWith('@cloudflare/workerd-'))
    note('workerd', meta.version, `package-lock.json: ${path}`);
}

let bad = false;
for (const [name, versions] of found) {
  if (versions.size === 1) {
    console.log(`one ${name}: ${[...versions.keys()][0]}`);
    continue;
  }
  bad = true;
  if (versions.size === 0) console.error(`no ${name} installed or locked`);
  else {
    console.error(`${versions.size} versions of ${name}:`);
    for (const [version, where] of versions) console.error(`  ${version} (${where})`);
  }
}
if (bad) {
  console.error(
    'Pin @cloudflare/vitest-plugin exactly, and the top-level wrangler and miniflare to the exact versions ' +
      'it depends on (its package.json), then npm install.',
  );
  process.exit(1);
}
