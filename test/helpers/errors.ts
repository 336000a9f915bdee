/** The GatewayError a synchronous call throws; anything else (or nothing) fails the test. */
import { GatewayError } from '../../src/lib/errors';

export function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('expected a GatewayError');
}
