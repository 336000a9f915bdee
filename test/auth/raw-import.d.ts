/**
 * Vite's `?raw` import (file contents as a string), used by tests that check wrangler.toml:
 * workerd has no file system, so the bundler inlines the file instead.
 */
declare module '*?raw' {
  const content: string;
  export default content;
}
