/**
 * HTTP authentication: `Authorization: Bearer <key>` (or, on routes that say so, `x-api-key: <key>`
 * as Anthropic clients send it) matched against configured keys, each with a role, or a
 * host-supplied function. Keys are compared by their SHA-256 digests, so neither the
 * timing of the lookup nor the configuration reveals a key.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import { optionUnion } from '../options.js';

/**
 * Every role a key can have; which routes each may call is declared in the route table
 * (`routes.ts`). `node` keys are registration tokens of self-registering inference nodes.
 */
export const ROLES = ['admin', 'viewer', 'client', 'node'] as const;
/** A caller's role. */
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by authentication. */
export interface Principal {
  role: Role;
  /** Optional label for logs (never the key). */
  name?: string;
}

/** A configured key: the plaintext `key`, or its `sha256` hex digest so configs need not hold it. */
export type AuthKey = ({ key: string; sha256?: never } | { sha256: string; key?: never }) & Principal;

/** Host-supplied authentication: return the caller's principal, or null to answer 401. */
export type AuthFunction = (req: IncomingMessage) => Principal | null | Promise<Principal | null>;

/**
 * The `auth` option of `createRouter`: a key list, a function, or `false` to turn HTTP auth off
 * explicitly (every caller is admin — only behind your own auth layer).
 */
export type AuthOption = { keys: readonly AuthKey[] } | AuthFunction | false;

/**
 * One configured key: `{ key, role, name? }` or `{ sha256, role, name? }`. One object schema (not
 * a union of two) so that a bad field is reported on its own path, e.g. `keys.0.role`.
 */
const authKeySchema = z
  .strictObject({
    key: z.string().min(16).max(4096).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'must be a SHA-256 hex digest (64 hex characters)').optional(),
    role: z.enum(ROLES),
    name: z.string().min(1).max(100).optional(),
  })
  .refine((entry) => (entry.key === undefined) !== (entry.sha256 === undefined), 'must have either `key` or `sha256`, not both')
  // The refinement makes every accepted entry one of the two forms of AuthKey.
  .transform((entry) => entry as AuthKey);

/** Validates the `auth` option, with errors that point at the bad entry (`keys.0.role: …`). */
export const authOptionSchema = optionUnion('must be { keys: [{ key, role }] }, a function, or false', [
  z.literal(false),
  z.custom<AuthFunction>((v) => typeof v === 'function'),
  z.strictObject({ keys: z.array(authKeySchema) }),
]);

/** SHA-256 hex digest of a key, as accepted in `{ sha256 }` entries. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** How a route takes keys: `xApiKey` also accepts the key in the `x-api-key` header. */
export interface KeySources {
  xApiKey?: boolean;
}

/**
 * Resolves the caller of a request; `null` means unauthenticated. A host-supplied
 * {@link AuthFunction} reads whichever headers it wants and ignores `sources`.
 */
export type Authenticator = (req: IncomingMessage, sources?: KeySources) => Principal | null | Promise<Principal | null>;

const EVERYONE_ADMIN: Principal = Object.freeze({ role: 'admin', name: 'auth disabled' });

/**
 * Builds the authenticator for an `auth` option.
 *
 * @example
 * const authenticate = createAuthenticator({ keys: [{ key: process.env.ADMIN_KEY!, role: 'admin' }] });
 */
export function createAuthenticator(option: AuthOption): Authenticator {
  if (option === false) return () => EVERYONE_ADMIN;
  if (typeof option === 'function') return option;
  const byDigest = new Map<string, Principal>();
  for (const entry of option.keys) {
    const digest = entry.sha256 !== undefined ? entry.sha256.toLowerCase() : hashKey(entry.key);
    if (byDigest.has(digest)) throw new LlmlbError('invalid_request', 'the same key is configured twice');
    byDigest.set(digest, Object.freeze(entry.name === undefined ? { role: entry.role } : { role: entry.role, name: entry.name }));
  }
  const lookup = (token: string | null) => (token === null ? null : (byDigest.get(hashKey(token)) ?? null));
  return (req, sources) => {
    const principal = lookup(bearerToken(req.headers.authorization));
    if (principal !== null || sources?.xApiKey !== true) return principal;
    return lookup(apiKeyHeader(req.headers['x-api-key']));
  };
}

/** The key of an `x-api-key` header, or null. */
function apiKeyHeader(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string' || header.length > 8192) return null;
  const token = header.trim();
  return token === '' ? null : token;
}

/** The token of an `Authorization: Bearer …` header, or null. */
function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header.length < 8 || header.length > 8192) return null;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  const token = header.slice(7).trim();
  return token === '' ? null : token;
}
