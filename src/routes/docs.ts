/**
 * GET /docs: the API reference, Swagger UI rendering this gateway's own /openapi.json. Public, like
 * the document. Only this small page is the Worker's; the scripts and stylesheet are Workers static
 * assets under /docs/ (public/, [assets] in wrangler.toml), so they stay out of the Worker bundle.
 * public/docs/vendor/ is copied from swagger-ui-dist by scripts/docs-assets.ts.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../context';

/**
 * Everything from this origin, nothing inline, nothing eval'd, no other origin. img-src allows
 * data: for the icons Swagger UI's stylesheet embeds; connect-src 'self' fetches /openapi.json
 * (and "Try it out" calls). Swagger UI sets element styles through the CSSOM, which style-src does
 * not govern, so it needs no 'unsafe-inline'. test/browser/docs.node.ts loads the page under it.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ghes-token-gateway API</title>
<link rel="icon" type="image/png" href="/docs/vendor/favicon-32x32.png">
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript. The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

export function registerDocsRoutes(app: Hono<AppEnv>): void {
  app.get('/docs', (c) => {
    c.header('content-security-policy', DOCS_CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'public, max-age=300');
    return c.html(PAGE);
  });
}
