/**
 * Browser test of GET /docs: Debian's headless Chromium, driven by playwright-core, loads the page
 * from the gateway as `npm start` runs it and checks that Swagger UI renders, and expands, every
 * operation of the gateway's own /openapi.json with no console error, no uncaught error, no
 * Content-Security-Policy violation, no failed request and no request to any other origin.
 *
 *   npm run test:browser                        # installs Debian's chromium first when missing
 *   node --import tsx test/browser/docs.node.ts # chromium installed (CHROMIUM=path overrides)
 *
 * One line per check, then `N passed, M failed` alone on the last line; non-zero exit on any
 * failure. The run is bounded (RUN_BUDGET_MS); the browser and the gateway are stopped on
 * success, failure, timeout, SIGINT and SIGTERM.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import { copyDocsAssets } from '../../scripts/docs-assets';
import type { Cleanup, CheckRunner } from '../e2e/lib/harness.node.js';
import { runSuite, type SuiteLive } from '../e2e/lib/suite.node.js';
import { npmStart, type StartedGateway } from './npm-start.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const RUN_BUDGET_MS = 180_000;
const STEP_TIMEOUT_MS = 30_000;
const EXPAND_TIMEOUT_MS = 90_000;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  method: string;
  path: string;
  summary: string;
  operationId?: string;
}

interface Observed {
  problems: string[];
  violations: string[];
  foreign: string[];
  responses: Map<string, Response>;
}

/** Each path + method of the document, as Swagger UI should show it. */
function operationsOf(doc: { paths?: Record<string, Record<string, unknown>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as { summary?: string; operationId?: string } | undefined;
      if (op === undefined) continue;
      ops.push({
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? '',
        ...(op.operationId !== undefined && { operationId: op.operationId }),
      });
    }
  }
  return ops;
}

const key = (o: { method: string; path: string }) => `${o.method} ${o.path}`;

/** Records everything the page does that the checks judge. */
async function watch(browser: Browser, origin: string): Promise<{ page: Page; seen: Observed }> {
  const seen: Observed = { problems: [], violations: [], foreign: [], responses: new Map() };
  const context = await browser.newContext();
  // Anything off the gateway's origin is recorded and never sent.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    seen.foreign.push(url);
    return route.abort('blockedbyclient');
  });
  await context.exposeBinding('__cspViolation', (_source, text: string) => {
    seen.violations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __cspViolation(text: string): void }).__cspViolation;
      report(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile})`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (e) => seen.problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (new URL(r.url()).origin === origin)
      seen.problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`);
  });
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin) return;
    seen.responses.set(url.pathname, r);
    if (r.status() >= 400) seen.problems.push(`${r.status()} for ${url.pathname}`);
  });
  return { page, seen };
}

/** The operations the page shows: one .opblock per operation and tag. */
async function renderedOperations(page: Page) {
  return page.$$eval('.opblock', (blocks) =>
    blocks.map((b) => ({
      id: b.id,
      method: b.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '',
      path: b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '',
      summary: b.querySelector('.opblock-summary-description')?.textContent?.trim() ?? '',
    })),
  );
}

async function runChecks(checks: CheckRunner, gateway: StartedGateway, browser: Browser) {
  const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as Parameters<
    typeof operationsOf
  >[0];
  const operations = operationsOf(doc);
  assert.ok(operations.length > 0, '/openapi.json lists no operation');
  const { page, seen } = await watch(browser, gateway.url);
  const answer = await page.goto(`${gateway.url}/docs`, { waitUntil: 'load' });

  await checks.check('GET /docs answers the page with its CSP and nosniff', async () => {
    assert.ok(answer !== null, 'no answer');
    assert.equal(answer.status(), 200);
    const headers = await answer.allHeaders();
    // The exact policy is pinned by test/routes/docs.test.ts; this run shows it is enough.
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /(^|; )default-src 'none'(;|$)/);
    assert.match(csp, /(^|; )script-src 'self'(;|$)/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  await checks.check(
    `all ${operations.length} operations of /openapi.json are rendered`,
    async () => {
      const distinct = new Set(operations.map(key)).size;
      await page.waitForFunction(
        (n) =>
          new Set(Array.from(document.querySelectorAll('.opblock')).map((b) => b.id)).size >= n,
        distinct,
      );
      const rendered = await renderedOperations(page);
      const byKey = new Map(rendered.map((r) => [key(r), r]));
      assert.deepEqual([...byKey.keys()].sort(), operations.map(key).sort());
      for (const op of operations) {
        const shown = byKey.get(key(op));
        assert.equal(shown?.summary, op.summary, `${key(op)}: summary`);
        // Swagger UI's deep-link id: operations-<tag>-<operationId>, CSS-escaped.
        if (op.operationId !== undefined)
          assert.ok(
            rendered.some(
              (r) =>
                key(r) === key(op) && r.id.replace(/\\(.)/g, '$1').endsWith(`-${op.operationId}`),
            ),
            `${key(op)}: operationId ${op.operationId} not in its block id`,
          );
      }
    },
  );

  await checks.check('every operation expands to its parameters and responses', async () => {
    // Clicked in the page, all at once: Playwright's per-click waits made this take a minute.
    const count = await page.$$eval('.opblock-summary-control', (buttons) => {
      for (const b of buttons) (b as HTMLElement).click();
      return buttons.length;
    });
    await page.waitForFunction(
      (n) => document.querySelectorAll('.opblock.is-open .responses-table').length >= n,
      count,
      // Rendering every operation's schemas and examples at once takes ~25 s on 2 shared cores.
      { timeout: EXPAND_TIMEOUT_MS },
    );
  });

  await checks.check('the Swagger UI files are static assets sent with nosniff', async () => {
    for (const [path, type] of [
      ['/docs/vendor/swagger-ui-bundle.js', /javascript/],
      ['/docs/vendor/swagger-ui.css', /^text\/css/],
      ['/docs/init.js', /javascript/],
    ] as const) {
      const res = seen.responses.get(path);
      assert.ok(res !== undefined, `${path} was not loaded`);
      assert.equal(res.status(), 200, path);
      const headers = await res.allHeaders();
      assert.match(headers['content-type'] ?? '', type, path);
      assert.equal(headers['x-content-type-options'], 'nosniff', path);
    }
  });

  await checks.check('no console error, uncaught error or failed request', async () => {
    assert.deepEqual(seen.problems, []);
  });
  await checks.check('no Content-Security-Policy violation', async () => {
    assert.deepEqual(seen.violations, []);
  });
  await checks.check('no request to any origin but the gateway', async () => {
    assert.deepEqual(seen.foreign, []);
  });
}

interface World {
  gateway: StartedGateway;
  browser: Browser;
}

async function setUp(cleanup: Cleanup, live: SuiteLive): Promise<World> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}; \`npm run test:browser\` installs Debian's`);
  const copied = copyDocsAssets();
  console.log(`info  swagger-ui-dist ${copied.version} copied to public/docs/vendor/`);
  const t0 = Date.now();
  const gateway = await npmStart(root, 90_000);
  live.outputs.push(['npm start', () => gateway.recentOutput()]);
  cleanup.add('gateway (npm start)', gateway.stop);
  console.log(`info  gateway up at ${gateway.url} (${Date.now() - t0} ms)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, timeout: STEP_TIMEOUT_MS });
  cleanup.add('chromium', () => browser.close());
  console.log(`info  ${CHROMIUM} ${browser.version()}`);
  return { gateway, browser };
}

void runSuite<World>({
  name: 'browser test',
  budgetMs: RUN_BUDGET_MS,
  teardownMs: 15_000,
  setUp,
  checks: (checks, w) => runChecks(checks, w.gateway, w.browser),
});
