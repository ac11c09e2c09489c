/**
 * Where the standalone server's secrets come from: the storage secret (environment, a file beside
 * the SQLite database created on first start, or a random one for a memory-only run) and the
 * admin key generated when none is configured.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { MIN_SECRET_LENGTH } from '../crypto.js';
import type { Logger } from '../logger.js';
import type { ServeConfig } from './config.js';

/**
 * Prefix of generated admin keys.
 *
 * @example
 * generateAdminKey().startsWith(GENERATED_KEY_PREFIX); // true
 */
export const GENERATED_KEY_PREFIX = 'llmlb_';

/**
 * A fresh random admin key: `llmlb_` + 32 random bytes in base64url.
 *
 * @example
 * generateAdminKey(); // 'llmlb_3q2-7w…' (49 characters)
 */
export function generateAdminKey(): string {
  return `${GENERATED_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The file beside a database that holds its generated secret.
 *
 * @example
 * secretFileFor('./llmlb.db'); // './llmlb.db.secret'
 */
export function secretFileFor(dbFile: string): string {
  return `${dbFile}.secret`;
}

export interface ResolvedSecret {
  secret: string;
  source: 'env' | 'file' | 'memory';
  file?: string;
  created?: boolean;
}

/** The `code` of a Node.js system error, if any. */
export function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

function readSecretFile(file: string, logger: Logger): string {
  const fd = openSync(file, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      logger.warn({ file, mode: mode.toString(8) }, 'the secret file is readable by other users: run chmod 600 on it');
    }
    const secret = readFileSync(fd, 'utf8').trim();
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`the secret file ${file} holds fewer than ${MIN_SECRET_LENGTH} characters; fix it or set LLMLB_SECRET`);
    }
    return secret;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads `<db>.secret`, or creates it (mode 0600, exclusive create: never overwrites, and a
 * concurrent start reads the winner's file).
 */
function fileSecret(file: string, logger: Logger): ResolvedSecret {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return { secret: readSecretFile(file, logger), source: 'file', file, created: false };
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw describeFsError(err, `cannot read the secret file ${file}`);
    }
    const secret = randomBytes(32).toString('base64url');
    try {
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return { secret, source: 'file', file, created: true };
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw describeFsError(err, `cannot create the secret file ${file}`);
      // Another process created it between our read and write: read theirs.
    }
  }
  throw new Error(`cannot read or create the secret file ${file}`);
}

function describeFsError(err: unknown, context: string): Error {
  if (err instanceof Error && !('code' in err)) return err;
  const code = errorCode(err);
  const reason =
    code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String(err);
  return new Error(`${context}: ${reason}`, { cause: err });
}

export function resolveSecret(config: ServeConfig, logger: Logger): ResolvedSecret {
  if (config.secret !== undefined) return { secret: config.secret, source: 'env' };
  if (config.storage.kind === 'memory') return { secret: randomBytes(32).toString('base64url'), source: 'memory' };
  if (config.storage.kind === 'postgres') throw new Error('with a PostgreSQL database, set LLMLB_SECRET (the same on every instance)');
  return fileSecret(secretFileFor(config.storage.filename), logger);
}

