/** GET /openapi.json: the document of every route (src/routes/document.ts), built once. */
import * as v from 'valibot';
import { JSON_TYPE, type Api, type RouteSpec } from './api';
import { OPENAPI_PATH, openApiDocument } from './document';

const documentRoute = {
  method: 'get',
  path: OPENAPI_PATH,
  operationId: 'openApiDocument',
  tags: ['operations'],
  summary: 'This document (OpenAPI 3.1)',
  responses: {
    200: {
      description: 'The OpenAPI document of every route',
      content: { [JSON_TYPE]: v.record(v.string(), v.unknown()) },
    },
  },
} satisfies RouteSpec;

export function registerDocumentRoute(api: Api, publicUrl: string): void {
  let text: string | undefined;
  api.route(documentRoute, (c) => {
    // Built on first request: most isolates never serve it, and it costs a few milliseconds.
    text ??= JSON.stringify(openApiDocument(api, { publicUrl }));
    return c.body(text, 200, { 'content-type': JSON_TYPE });
  });
}
