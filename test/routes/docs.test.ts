/**
 * GET /docs (src/routes/docs.ts): the page's headers and what it loads. That Swagger UI really
 * renders every operation under this CSP is test/browser/docs.node.ts (headless Chromium).
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';
import headersFile from '../../public/_headers?raw';
import initScript from '../../public/docs/init.js?raw';

/** The policy, directive by directive: anything added (an origin, 'unsafe-inline') fails. */
const EXPECTED_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

function directives(csp: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (csp ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') out[name] = values;
  }
  return out;
}

/** Every URL the page names in src= or href=. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
}

describe('GET /docs', () => {
  it('answers the page without caller auth, under a CSP that allows only this origin', async () => {
    const gw = await createTestGateway();

    const res = await gw.request('/docs');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(directives(res.headers.get('content-security-policy'))).toStrictEqual(EXPECTED_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Nothing reaches GHES for the page.
    expect(gw.outbound).toHaveLength(0);
  });

  it('loads Swagger UI and its start script from /docs/ paths, with nothing inline', async () => {
    const gw = await createTestGateway();
    const html = await (await gw.request('/docs')).text();

    expect(referencedUrls(html).sort()).toStrictEqual([
      '/docs/init.js',
      '/docs/vendor/favicon-32x32.png',
      '/docs/vendor/swagger-ui-bundle.js',
      '/docs/vendor/swagger-ui.css',
      '/openapi.json',
    ]);
    // script-src 'self' would block an inline script and style-src 'self' an inline style.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[1])).toStrictEqual([
      ' src="/docs/vendor/swagger-ui-bundle.js"',
      ' src="/docs/init.js"',
    ]);
    for (const script of scripts) expect(script[2]).toBe('');
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it('answers HEAD like GET and refuses other methods with 405 naming GET', async () => {
    const gw = await createTestGateway();

    const head = await gw.request('/docs', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).not.toBeNull();
    expect(await head.text()).toBe('');

    const post = await gw.request('/docs', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('the /docs static assets (public/)', () => {
  it('start Swagger UI on this gateway’s own document, with no validator and no ?url=', () => {
    expect(initScript).toMatch(/url: '\/openapi\.json'/);
    expect(initScript).toMatch(/validatorUrl: null/);
    expect(initScript).toMatch(/queryConfigEnabled: false/);
    expect(initScript).not.toMatch(/https?:\/\//);
  });

  it('are served with X-Content-Type-Options: nosniff (public/_headers)', () => {
    const rules = headersFile
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(rules).toStrictEqual(['/docs/*', '  X-Content-Type-Options: nosniff']);
  });
});
