/**
 * The proxy recipes in docs/recipes/ (node:test; `npm run test:docs`, part of `npm test`):
 * - docs/gateways.md quotes each file verbatim (so the page and the files cannot drift);
 * - Envoy, Traefik and Kong configs (which cannot be installed here) have only the keys their
 *   proxies document, nested as documented (test/docs/lib/proxy-schemas.node.ts cites the pages),
 *   and a misspelt key fails — shown on mutated copies, every key of every file in turn;
 * - every recipe strips client-sent X-Auth-* and X-Forward-Auth-* and pins the app itself
 *   (test/docs/lib/recipes.node.ts), and a copy without one of those lines fails.
 * nginx and Caddy recipes also run for real in `npm run test:e2e` (Caddy's file as it is).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { envoyBootstrap, kongDeck, traefikDynamic } from './lib/proxy-schemas.node.js';
import {
  caddyRules,
  caddyUnknownDirectives,
  envoyRules,
  GATEWAYS_MD,
  gatewayHeaders,
  kongRules,
  nginxRules,
  parseYamlRecipe,
  parseYamlText,
  quotedRecipes,
  readRecipe,
  recipeFiles,
  RECIPES_DIR,
  traefikRules,
} from './lib/recipes.node.js';
import { checkShape, renameKey, type Shape } from './lib/shape.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const headers = gatewayHeaders(root);

const YAML_RECIPES: Array<{
  file: string;
  shape: Shape;
  rules: (config: unknown, h: typeof headers) => string[];
  /** A documented key the recipe uses, misspelt the way a person would. */
  typo: { path: string[]; to: string };
}> = [
  {
    file: 'envoy.yaml',
    shape: envoyBootstrap,
    rules: envoyRules,
    typo: {
      path: 'static_resources.listeners.0.filter_chains.0.filters.0.typed_config.http_filters.1.typed_config.http_service.authorization_response.allowed_upstream_headers'.split(
        '.',
      ),
      to: 'allowed_upstream_header',
    },
  },
  {
    file: 'traefik-dynamic.yaml',
    shape: traefikDynamic,
    rules: traefikRules,
    typo: {
      path: ['http', 'middlewares', 'ghes-forward-auth', 'forwardAuth', 'authResponseHeadersRegex'],
      to: 'authResponseHeaderRegex',
    },
  },
  {
    file: 'kong-deck.yaml',
    shape: kongDeck,
    rules: kongRules,
    typo: { path: ['plugins', '1', 'config', 'introspection_url'], to: 'introspection_uri' },
  },
];

describe('the gateway headers the recipes must handle', () => {
  it('are read from the gateway source', () => {
    assert.deepEqual(headers.forwardAuth, ['x-forward-auth-app', 'x-forward-auth-scope']);
    for (const name of ['x-auth-user', 'x-auth-token-expires', 'x-auth-app', 'x-auth-client-id'])
      assert.ok(headers.auth.includes(name), name);
  });
});

describe('docs/gateways.md quotes every recipe file verbatim', () => {
  const markdown = readFileSync(join(root, GATEWAYS_MD), 'utf8');
  const quoted = quotedRecipes(markdown);
  for (const file of recipeFiles(root)) {
    it(file, () => {
      const blocks = quoted.get(`${RECIPES_DIR}/${file}`) ?? [];
      assert.equal(
        blocks.length,
        1,
        `${GATEWAYS_MD} has no <!-- recipe: ${RECIPES_DIR}/${file} --> block`,
      );
      assert.equal(blocks[0], readRecipe(root, file));
    });
  }
  it('quotes no file that does not exist', () => {
    const files = new Set(recipeFiles(root).map((f) => `${RECIPES_DIR}/${f}`));
    assert.deepEqual(
      [...quoted.keys()].filter((p) => !files.has(p)),
      [],
    );
  });
  it('notices a block that differs from its file', () => {
    const changed = markdown.replace(
      "authResponseHeadersRegex: '^X-Auth-'\n",
      "authResponseHeadersRegex: '^X-Auth-Us'\n",
    );
    const block = quotedRecipes(changed).get(`${RECIPES_DIR}/traefik-dynamic.yaml`)?.[0];
    assert.notEqual(block, readRecipe(root, 'traefik-dynamic.yaml'));
  });
});

for (const recipe of YAML_RECIPES) {
  describe(`docs/recipes/${recipe.file}`, () => {
    const config = parseYamlRecipe(root, recipe.file);

    it('has only documented keys, nested as documented', () => {
      assert.deepEqual(checkShape(recipe.shape, config).errors, []);
    });

    it('fails the check with a misspelt key', () => {
      const errors = checkShape(
        recipe.shape,
        renameKey(config, recipe.typo.path, recipe.typo.to),
      ).errors;
      const unknown = errors.filter((e) => e.includes(`unknown key "${recipe.typo.to}"`));
      assert.equal(unknown.length, 1, errors.join('\n'));
    });

    it('fails the check with any one key misspelt', () => {
      const { strictKeys } = checkShape(recipe.shape, config);
      assert.ok(strictKeys.length > 10, `only ${strictKeys.length} keys checked`);
      for (const path of strictKeys) {
        const errors = checkShape(recipe.shape, renameKey(config, path, `${path.at(-1)}x`)).errors;
        assert.ok(errors.length > 0, `renaming ${path.join('.')} went unnoticed`);
      }
    });

    it('strips client-sent X-Auth-* and X-Forward-Auth-* and pins the app', () => {
      assert.deepEqual(recipe.rules(config, headers), []);
    });
  });
}

describe('the security rules catch a recipe that breaks them', () => {
  const yaml = (file: string, edit: (text: string) => string) => {
    const text = edit(readRecipe(root, file));
    assert.notEqual(text, readRecipe(root, file), 'the mutation changed nothing');
    return parseYamlText(text);
  };
  it('envoy: a client X-Forward-Auth-App that is not removed', () => {
    const config = yaml('envoy.yaml', (t) => t.replace(/^ *- remove: x-forward-auth-app\n/m, ''));
    assert.deepEqual(envoyRules(config, headers), [
      'x-forward-auth-app is not removed before ext_authz',
    ]);
  });
  it('envoy: x-forward-auth-* forwarded by allowed_headers', () => {
    const config = yaml('envoy.yaml', (t) =>
      t.replace('- exact: x-forwarded-for', '- prefix: x-forward'),
    );
    assert.ok(envoyRules(config, headers).some((b) => b.includes('allowed_headers forwards')));
  });
  it('traefik: the client chooses the headers sent to the gateway', () => {
    const config = yaml('traefik-dynamic.yaml', (t) =>
      t.replace(/ {8}authRequestHeaders:[^\n]*\n( {10}- [^\n]+\n)+/, ''),
    );
    assert.deepEqual(traefikRules(config, headers), [
      'no authRequestHeaders: every header is sent',
    ]);
  });
  it('traefik: client X-Auth-* survive without the regex', () => {
    const config = yaml('traefik-dynamic.yaml', (t) =>
      t.replace(/^ +authResponseHeadersRegex:.*\n/m, ''),
    );
    assert.ok(
      traefikRules(config, headers).includes(
        'x-auth-token-expires is neither matched by authResponseHeadersRegex nor listed',
      ),
    );
  });
  it('kong: the header strip runs after introspection', () => {
    const config = yaml('kong-deck.yaml', (t) => t.replace('before:', 'after:'));
    assert.deepEqual(kongRules(config, headers), [
      'no request-transformer on the route ordered before oauth2-introspection',
    ]);
  });
  it('caddy: no placeholder guard for X-Auth-Token-Expires', () => {
    const text = readRecipe(root, 'Caddyfile').replace(
      /^\s*request_header @unset_expires -X-Auth-Token-Expires\n/m,
      '',
    );
    assert.deepEqual(caddyRules(text, headers), [
      'no placeholder guard removes an unset X-Auth-Token-Expires after forward_auth',
    ]);
  });
  it("caddy: client headers stripped after forward_auth (Caddy's own order, no route)", () => {
    const text = readRecipe(root, 'Caddyfile').replace('route {', 'handle {');
    assert.deepEqual(caddyRules(text, headers), ['forward_auth is not inside a route block']);
  });
  it('caddy: the app left to the client', () => {
    const text = readRecipe(root, 'Caddyfile').replace('?app=ci-oauth&', '?');
    assert.deepEqual(caddyRules(text, headers), ['uri does not pin app=ci-oauth']);
  });
  it('nginx: a client X-Forward-Auth-App passed to the upstream', () => {
    const text = readRecipe(root, 'nginx.conf').replace(
      /^ *proxy_set_header X-Forward-Auth-App +"";\n/m,
      '',
    );
    assert.deepEqual(nginxRules(text, headers), [
      'the upstream location does not replace or empty x-forward-auth-app',
      'the upstream location passes x-forward-auth-app on',
    ]);
  });
});

describe('docs/recipes/Caddyfile', () => {
  const text = readRecipe(root, 'Caddyfile');
  it('strips client-sent X-Auth-* and X-Forward-Auth-* and pins the app', () => {
    assert.deepEqual(caddyRules(text, headers), []);
  });
  it('uses only documented directives and forward_auth subdirectives', () => {
    assert.deepEqual(caddyUnknownDirectives(text), []);
  });
  it('an unknown directive fails', () => {
    assert.deepEqual(caddyUnknownDirectives(text.replace('\tcopy_headers ', '\tcopy_header ')), [
      'forward_auth: copy_header',
    ]);
  });
});

describe('docs/recipes/nginx.conf', () => {
  it('strips client-sent X-Auth-* and X-Forward-Auth-* and pins the app', () => {
    assert.deepEqual(nginxRules(readRecipe(root, 'nginx.conf'), headers), []);
  });
});
