/** Paging of the Authorizations API lists (GitHub: `per_page` ≤ 100, `page`, `Link` rel="next"). */

export interface PageRequest {
  page?: number | undefined;
  perPage?: number | undefined;
}

export interface Page<T> {
  items: T[];
  /** The page after this one, from GHES's `Link` header; undefined on the last page. */
  nextPage?: number;
}

/** `?client_id=…&per_page=…&page=…` for a list of `clientId`'s objects. */
export function listQuery(clientId: string, page: PageRequest): string {
  const q = new URLSearchParams({ client_id: clientId });
  if (page.perPage !== undefined) q.set('per_page', String(page.perPage));
  if (page.page !== undefined) q.set('page', String(page.page));
  return `?${q.toString()}`;
}

/** The `page` of GHES's rel="next" link. Only the number is read: the URL is GHES's, not ours. */
export function nextPageOf(headers: Headers): number | undefined {
  const link = headers.get('link');
  if (link === null || link.length > 4096) return undefined;
  for (const part of link.split(',')) {
    if (!/;\s*rel="?next"?/.test(part)) continue;
    const m = /[?&]page=(\d{1,6})(?:[&>]|$)/.exec(part);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  }
  return undefined;
}
