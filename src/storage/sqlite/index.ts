/**
 * SQLite storage (kysely + better-sqlite3): the embedded default. Data survives restarts; with
 * a file database the adapter runs in WAL mode with `synchronous = FULL`, so a committed write
 * is never lost on a crash.
 */
import type { Kysely, SqliteDatabase } from 'kysely';
import { SqlStorage } from '../sql/adapter.js';
import { readStorageConfig } from '../sql/config.js';
import type { StorageAdapter } from '../types.js';
import { sqliteDialect, type SqliteSource } from './dialect.js';

/**
 * Where the SQLite adapter keeps its data — exactly one of:
 *
 * - `{ filename, synchronous? }`: a database file the adapter opens and closes itself
 *   (`":memory:"` for a throw-away in-memory database). `synchronous` defaults to `'full'`
 *   (no committed write lost on power failure); `'normal'` is faster and still safe against
 *   application crashes in WAL mode.
 * - `{ database }`: a better-sqlite3 database (or any kysely `SqliteDatabase`) owned by the caller; the adapter never closes it.
 * - `{ kysely }`: a kysely instance (SQLite dialect) owned by the caller; never destroyed.
 *
 * llmlb's tables are `endpoints`, `endpoint_models`, `endpoint_health_checks`, `llmlb_changes`
 * and `llmlb_leases`; its migration bookkeeping lives in `llmlb_migration` /
 * `llmlb_migration_lock`, so it can share a database with a host application's own kysely
 * migrations.
 *
 * @example
 * const config: SqliteStorageConfig = { filename: './llmlb.db', synchronous: 'normal' };
 */
export type SqliteStorageConfig =
  | { readonly filename: string; readonly synchronous?: 'full' | 'normal' }
  | { readonly database: SqliteDatabase }
  // `any`: the caller's kysely is typed with the caller's own tables.
  | { readonly kysely: Kysely<any> };

function toSource(config: SqliteStorageConfig): SqliteSource {
  const reader = readStorageConfig('sqliteStorage', config, ['filename', 'database', 'kysely']);
  const { fields, invalid } = reader;
  if (fields.filename !== undefined) {
    if (typeof fields.filename !== 'string') throw invalid('filename must be a string');
    const synchronous = fields.synchronous ?? 'full';
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw invalid(`synchronous must be 'full' or 'normal'`);
    }
    return Object.freeze({ kind: 'file', filename: fields.filename, synchronous });
  }
  if (fields.database !== undefined) {
    const database = fields.database as SqliteDatabase;
    if (typeof database.prepare !== 'function') throw invalid('database must be a better-sqlite3 Database');
    return Object.freeze({ kind: 'database', database });
  }
  return Object.freeze({ kind: 'kysely', kysely: reader.kysely() });
}

/**
 * SQLite storage: endpoints, models, health-check history, the change feed and leases in a
 * SQLite database, through kysely's `SqliteDialect` and better-sqlite3. `init()` creates or
 * migrates the schema (a no-op when it is current); `close()` closes the database only if the
 * adapter opened it.
 *
 * On a file it opens, the adapter sets `journal_mode = WAL` (not for `":memory:"`),
 * `foreign_keys = ON`, `busy_timeout = 5000` and `synchronous = FULL` (or `NORMAL`). On a
 * caller-provided database or kysely instance it only switches on `foreign_keys`.
 *
 * @throws LlmlbError `invalid_request` for a malformed config.
 * @example
 * const storage = sqliteStorage({ filename: './llmlb.db' });
 * await storage.init();
 * const router = createRouter({ storage, secret: process.env.LLMLB_SECRET });
 */
export function sqliteStorage(config: SqliteStorageConfig): StorageAdapter {
  return new SqlStorage(sqliteDialect(toSource(config)));
}
