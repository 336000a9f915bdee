/**
 * Which form an introspection answer takes: RFC 7662 JSON, or the RFC 9701 signed JWT a client
 * asks for with `Accept: application/token-introspection+jwt` (RFC 9701 §4).
 *
 * Proactive negotiation after RFC 9110 §12.5.1, kept deliberately narrow:
 * - the JWT is chosen only when the client names its media type; `*∕*` or `application/*`
 *   never select it, because a client that did not ask for a JWT cannot process one;
 * - when both are named, the higher quality value wins and a tie goes to the JWT (the client
 *   named the specific type on purpose);
 * - a client that accepts only the JWT when no signing key is configured gets 406; any other
 *   Accept value, even one naming neither type, gets JSON (RFC 9110 §12.5.1 lets a server ignore
 *   Accept rather than refuse).
 */

export const INTROSPECTION_JWT_TYPE = 'application/token-introspection+jwt';

export type IntrospectionFormat = 'json' | 'jwt' | 'not-acceptable';

interface MediaRange {
  type: string;
  q: number;
}

/** Longest Accept value we parse; beyond it the client gets JSON. */
const MAX_ACCEPT_LENGTH = 1024;
const JWT_IN_ACCEPT = /application\/token-introspection\+jwt/i;

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';');
    const type = (rawType ?? '').trim().toLowerCase();
    if (type === '') continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name?.toLowerCase() === 'q' && value !== undefined) {
        // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        q = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value) ? Number(value) : 0;
      }
    }
    ranges.push({ type, q });
  }
  return ranges;
}

/** Quality of `type` under the most specific matching range (RFC 9110 §12.5.1), or undefined. */
function qualityOf(
  ranges: MediaRange[],
  type: string,
  allowWildcards: boolean,
): number | undefined {
  const [major] = type.split('/');
  const exact = ranges.find((r) => r.type === type);
  if (exact !== undefined) return exact.q;
  if (!allowWildcards) return undefined;
  const partial = ranges.find((r) => r.type === `${major}/*`);
  if (partial !== undefined) return partial.q;
  return ranges.find((r) => r.type === '*/*')?.q;
}

export function negotiateIntrospectionFormat(
  accept: string | undefined,
  canSign: boolean,
): IntrospectionFormat {
  if (accept === undefined || accept.trim() === '' || accept.length > MAX_ACCEPT_LENGTH) {
    return 'json';
  }
  // Only an exact `application/token-introspection+jwt` range can ask for a JWT (no wildcard
  // does, below): without that text anywhere, the answer is JSON and nothing need be parsed.
  if (!JWT_IN_ACCEPT.test(accept)) return 'json';
  return negotiateParsed(accept, canSign);
}

/** The negotiation on the parsed header; exported so tests can hold the shortcut above to it. */
export function negotiateParsed(accept: string, canSign: boolean): IntrospectionFormat {
  const ranges = parseAccept(accept);
  const jwtQ = qualityOf(ranges, INTROSPECTION_JWT_TYPE, false) ?? 0;
  if (jwtQ === 0) return 'json';
  const jsonQ = qualityOf(ranges, 'application/json', true) ?? 0;
  if (canSign) return jwtQ >= jsonQ ? 'jwt' : 'json';
  return jsonQ > 0 ? 'json' : 'not-acceptable';
}
