import type { Bindings } from '../src/config/types';

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {}
  }
}
export {};
