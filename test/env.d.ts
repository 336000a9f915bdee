import type { Bindings } from '../src/config/parse';

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {}
  }
}
export {};
