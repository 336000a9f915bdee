/**
 * The end-user client address an API gateway's proxy reports, as a rate-limit key.
 *
 * Trust boundary: the header's earlier hops are whatever the end client sent (nginx
 * `$proxy_add_x_forwarded_for`, Envoy and Traefik append to the client's own value), so only the
 * hop the caller's proxy appended is used: the last one. Cloudflare then appends the address of
 * the proxy's own connection (the value of `CF-Connecting-IP`, which Cloudflare sets and clients
 * cannot), so a trailing hop equal to it is skipped first.
 *
 * IPv6 addresses are keyed by their /64: one host commonly holds a whole /64 and could otherwise
 * take a fresh key per request. A value that is not an IP address is keyed as `unparseable`, one
 * shared bucket, so garbage cannot mint keys either.
 */

export type ClientAddress =
  | { kind: 'absent' }
  | { kind: 'address'; key: string }
  | { kind: 'unparseable'; key: 'unparseable' };

/** Header values longer than this are not parsed (a proxy chain is a few hops). */
const MAX_HEADER_LENGTH = 4096;

/**
 * @param header lower-case header name (`x-forwarded-for`, `x-real-ip`, `forwarded`, …)
 * @param value its value as received, undefined when absent
 * @param connecting `CF-Connecting-IP`, the address of the connection to Cloudflare
 */
export function clientAddressOf(
  header: string,
  value: string | undefined,
  connecting: string | undefined,
): ClientAddress {
  if (value === undefined || value.trim() === '') return { kind: 'absent' };
  if (value.length > MAX_HEADER_LENGTH) return { kind: 'unparseable', key: 'unparseable' };
  let hops = value
    .split(',')
    .map((hop) => (header === 'forwarded' ? forwardedFor(hop) : hop.trim()))
    .filter((hop) => hop !== '');
  const self = connecting === undefined ? undefined : ipKey(connecting.trim());
  if (self !== undefined && hops.length > 0 && ipKey(hops[hops.length - 1] as string) === self)
    hops = hops.slice(0, -1);
  const last = hops[hops.length - 1];
  if (last === undefined) return { kind: 'absent' };
  const key = ipKey(last);
  return key === undefined ? { kind: 'unparseable', key: 'unparseable' } : { kind: 'address', key };
}

/** RFC 7239 §4: the `for=` parameter of one forwarded-element, quotes removed. */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    return pair
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return '';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * A canonical key for an IP literal, optionally with a port (`1.2.3.4:80`, `[::1]:80`), or
 * undefined when it is none: IPv4 as dotted quad, IPv6 as its /64 prefix, IPv4-mapped IPv6 as IPv4.
 */
export function ipKey(text: string): string | undefined {
  let host = text;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(host);
  if (bracketed !== null) host = bracketed[1] as string;
  else if (/^[\d.]+:\d{1,5}$/.test(host)) host = host.slice(0, host.lastIndexOf(':'));
  if (IPV4.test(host)) return host;
  const groups = ipv6Groups(host);
  if (groups === undefined) return undefined;
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 literal (zone ids refused), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes('.')) {
        if (!IPV4.test(piece)) return undefined;
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) out.push(parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const tail = halves.length === 2 ? parse(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
