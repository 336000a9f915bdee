// The /docs page's one script of its own (src/routes/docs.ts): a file, not inline, because the
// page's Content-Security-Policy allows scripts from 'self' only.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // Never send the document to validator.swagger.io.
  validatorUrl: null,
  // ?url= / ?configUrl= must not point the page at another document (the default, made explicit).
  queryConfigEnabled: false,
});
