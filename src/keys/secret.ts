/**
 * Key secrets: how a runtime key's secret is made (`llmlb_` and 43 base64url characters, 256 random
 * bits), the readable prefix that names it in lists and logs, and the SHA-256 digest that is all
 * llmlb keeps of any key.
 */
import { hash, randomBytes } from 'node:crypto';

/** What every runtime key's secret starts with. */
const SECRET_PREFIX = 'llmlb_';
/** Characters of the random part shown in the readable prefix. */
const SHOWN = 8;

/**
 * SHA-256 hex digest of a key, as accepted in `{ sha256 }` entries of the `auth` option.
 *
 * @example
 * hashKey('a-very-long-admin-key'); // '…64 hex characters…'
 */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** A new key secret, with its readable prefix and digest (the secret is shown once, then dropped). */
export interface NewSecret {
  secret: string;
  prefix: string;
  digest: string;
}

/**
 * Makes a new key secret.
 *
 * @example
 * const { secret, prefix, digest } = newSecret(); // prefix: 'llmlb_ab12CD34'
 */
export function newSecret(): NewSecret {
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, SECRET_PREFIX.length + SHOWN), digest: hashKey(secret) };
}

/**
 * The id of a key configured in the `auth` option, derived from its digest so that it is stable
 * across restarts and instances (usage is kept under it) without revealing the digest itself.
 */
export function configKeyId(digest: string): string {
  return `cfg_${hashKey(`llmlb-config-key:${digest}`).slice(0, 16)}`;
}
