/**
 * GET /docs: the API reference, Swagger UI rendering this gateway's own /openapi.json. Public, like
 * the document. Only this small page is the Worker's; the scripts and stylesheet are Workers static
 * assets under /docs/ (public/, [assets] in wrangler.toml), so they stay out of the Worker bundle.
 * public/docs/vendor/ is copied from swagger-ui-dist by scripts/docs-assets.ts.
 */
import * as v from 'valibot';
import type { Api, RouteSpec } from './api';

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

const docsRoute = {
  method: 'get',
  path: '/docs',
  operationId: 'apiReference',
  tags: ['operations'],
  summary: 'This API reference, rendered from /openapi.json (Swagger UI, served by the gateway)',
  responses: {
    200: {
      description:
        "The page; its script and stylesheet are the Worker's static assets under /docs/",
      headers: {
        'content-security-policy': { description: DOCS_CSP, required: true },
        'x-content-type-options': { description: 'nosniff', required: true },
      },
      content: { 'text/html': v.string() },
    },
  },
} satisfies RouteSpec;

export function registerDocsRoutes(api: Api): void {
  api.route(docsRoute, (c) => {
    c.header('content-security-policy', DOCS_CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'public, max-age=300');
    return c.html(PAGE);
  });
}
