/**
 * HTTP authentication: `Authorization: Bearer <key>` (or, on routes that say so, `x-api-key: <key>`
 * as Anthropic clients send it) matched against the keys llmlb knows — those of the `auth` option
 * and runtime keys (`/v0/keys`) — or a host-supplied function. Keys are compared by their SHA-256
 * digests (one map lookup, no storage access), so neither the
 * timing of the lookup nor the configuration reveals a key.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { ConfigKey } from '../keys/index.js';
import { hashKey } from '../keys/secret.js';
import { optionUnion } from '../options.js';
import { type Principal, ROLES } from '../roles.js';

export { ROLES, type Principal, type Role } from '../roles.js';
export { hashKey } from '../keys/secret.js';

/** A configured key: the plaintext `key`, or its `sha256` hex digest so configs need not hold it. */
export type AuthKey = ({ key: string; sha256?: never } | { sha256: string; key?: never }) & Omit<Principal, 'keyId'>;

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

/** The keys of an `auth` option by digest, role and label (none for a function or `false`). */
export function configKeysOf(option: AuthOption | undefined): ConfigKey[] {
  if (option === undefined || option === false || typeof option === 'function') return [];
  return option.keys.map((entry) => {
    const digest = entry.sha256 !== undefined ? entry.sha256.toLowerCase() : hashKey(entry.key);
    return entry.name === undefined ? { digest, role: entry.role } : { digest, role: entry.role, name: entry.name };
  });
}

/** Resolves a key's SHA-256 digest to the principal of a key that works now, or null. */
export type KeyResolver = (digest: string) => Readonly<Principal> | null;

/**
 * Builds the authenticator for an `auth` option. `resolve` knows every key llmlb holds (the
 * option's and runtime keys). A bearer token that is such a key always authenticates as that
 * key; otherwise `{ keys }` answers 401, a function decides, and `false` lets the caller in as
 * admin (llmlb does no authentication then: keys only attribute and limit traffic).
 *
 * @example
 * const authenticate = createAuthenticator(option, (digest) => keys.resolve(digest));
 */
export function createAuthenticator(option: AuthOption, resolve: KeyResolver): Authenticator {
  const lookup = (token: string | null) => (token === null ? null : resolve(hashKey(token)));
  const known = (req: IncomingMessage, sources?: KeySources): Readonly<Principal> | null => {
    const principal = lookup(bearerToken(req.headers.authorization));
    if (principal !== null || sources?.xApiKey !== true) return principal;
    return lookup(apiKeyHeader(req.headers['x-api-key']));
  };
  if (option === false) return (req, sources) => known(req, sources) ?? EVERYONE_ADMIN;
  if (typeof option === 'function') return (req, sources) => known(req, sources) ?? option(req);
  return known;
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
