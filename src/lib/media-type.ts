/**
 * Whether a Content-Type header is exactly `type`, with only well-formed parameters
 * (RFC 9110 §8.3.1: `type/subtype *( OWS ";" OWS parameter )`, parameter = token "=" ( token /
 * quoted-string )). Anything else — `type ;x`, a second type after a comma — is not that type.
 */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PARAMETERS = `(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))*[ \\t]*`;

const cache = new Map<string, RegExp>();

export function isMediaType(header: string | undefined, type: string): boolean {
  if (header === undefined) return false;
  let pattern = cache.get(type);
  if (pattern === undefined) {
    pattern = new RegExp(`^${type.replace(/[.+/]/g, '\\$&')}${PARAMETERS}$`, 'i');
    cache.set(type, pattern);
  }
  return pattern.test(header);
}
