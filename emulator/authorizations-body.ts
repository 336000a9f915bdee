/**
 * Request bodies of the Authorizations API, checked against the schema GitHub describes (every
 * release 2.18 – 3.22 alike): the same 400 "Problems parsing JSON" / 422 "Invalid request." /
 * 422 "Validation Failed" split as the app-token endpoints (request-body.ts).
 */
import type { BodyResult } from './request-body';

export interface AuthorizationBody {
  scopes?: string[] | null;
  addScopes?: string[];
  removeScopes?: string[];
  note?: string;
  noteUrl?: string;
  clientId?: string;
  clientSecret?: string;
  fingerprint?: string;
}

const STRINGS = {
  note: 'note',
  note_url: 'noteUrl',
  client_id: 'clientId',
  client_secret: 'clientSecret',
  fingerprint: 'fingerprint',
} as const;
const MAX_LENGTH: Readonly<Record<string, number>> = { client_id: 20, client_secret: 40 };
const LISTS = { add_scopes: 'addScopes', remove_scopes: 'removeScopes' } as const;

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** `required`: members the operation's schema requires (`client_secret` on the PUTs). */
export function parseAuthorizationBody(
  value: unknown,
  required: readonly string[] = [],
): BodyResult<AuthorizationBody> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, kind: 'invalid', detail: `${show(value)} is not an object.` };
  const body = value as Record<string, unknown>;
  const invalid = (detail: string): BodyResult<AuthorizationBody> => ({
    ok: false,
    kind: 'invalid',
    detail,
  });
  for (const name of required)
    if (body[name] === undefined) return invalid(`"${name}" wasn't supplied.`);
  const out: AuthorizationBody = {};
  for (const [name, key] of Object.entries(STRINGS)) {
    const member = body[name];
    if (member === undefined) continue;
    if (typeof member !== 'string')
      return invalid(`For 'properties/${name}', ${show(member)} is not a string.`);
    const max = MAX_LENGTH[name];
    if (max !== undefined && member.length > max)
      return invalid(`For 'properties/${name}', ${show(member)} is longer than ${max} characters.`);
    out[key] = member;
  }
  if (body['scopes'] !== undefined) {
    if (body['scopes'] !== null && !stringList(body['scopes']))
      return invalid(
        `For 'properties/scopes', ${show(body['scopes'])} is not an array of strings.`,
      );
    out.scopes = body['scopes'];
  }
  for (const [name, key] of Object.entries(LISTS)) {
    const member = body[name];
    if (member === undefined) continue;
    if (!stringList(member))
      return invalid(`For 'properties/${name}', ${show(member)} is not an array of strings.`);
    out[key] = member;
  }
  return { ok: true, value: out };
}
