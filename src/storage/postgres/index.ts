/**
 * PostgreSQL storage (kysely's `PostgresDialect` + `pg`): for several llmlb instances on one
 * database. `pg` is an optional peer dependency, loaded only when a PostgreSQL storage opens its
 * own pool.
 */
import type { Kysely, PostgresPool } from 'kysely';
import { SqlStorage } from '../sql/adapter.js';
import { readStorageConfig } from '../sql/config.js';
import type { StorageAdapter } from '../types.js';
import { type PostgresSource, postgresDialect } from './dialect.js';

/**
 * Where the PostgreSQL adapter keeps its data — exactly one of:
 *
 * - `{ connectionString }`: `postgres://user:pass@host:5432/db`; the adapter opens a `pg` pool
 *   (install `pg`) and ends it on close.
 * - `{ pool }`: a `pg.Pool` owned by the caller (never ended). Attach an `'error'` listener to it:
 *   `pg` raises idle-connection errors there.
 * - `{ kysely }`: a kysely instance (PostgreSQL dialect) owned by the caller (never destroyed).
 *   Without a pool the adapter cannot `LISTEN`, so routers poll the change feed instead.
 *
 * llmlb's tables are those of SQLite storage, plus the trigger function `llmlb_notify_change`.
 *
 * @example
 * const config: PostgresStorageConfig = { connectionString: process.env.LLMLB_DATABASE_URL! };
 */
export type PostgresStorageConfig =
  | { readonly connectionString: string }
  | { readonly pool: PostgresPool }
  // `any`: the caller's kysely is typed with the caller's own tables.
  | { readonly kysely: Kysely<any> };

function toSource(config: PostgresStorageConfig): PostgresSource {
  const reader = readStorageConfig('postgresStorage', config, ['connectionString', 'pool', 'kysely']);
  const { fields, invalid } = reader;
  if (fields.connectionString !== undefined) {
    if (typeof fields.connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(fields.connectionString)) {
      throw invalid('connectionString must be a postgres:// or postgresql:// URL');
    }
    return Object.freeze({ kind: 'url', connectionString: fields.connectionString });
  }
  if (fields.pool !== undefined) {
    const pool = fields.pool as PostgresPool;
    if (typeof pool.connect !== 'function') throw invalid('pool must be a pg Pool');
    return Object.freeze({ kind: 'pool', pool });
  }
  return Object.freeze({ kind: 'kysely', kysely: reader.kysely() });
}

/**
 * PostgreSQL storage: endpoints, models, health-check history, the change feed and leases in a
 * PostgreSQL database shared by several routers. `init()` migrates the schema in one
 * transaction under an advisory lock (instances starting together wait for each other);
 * `close()` ends the pool only if the adapter opened it. Routers on it follow each other's
 * writes (`LISTEN/NOTIFY` plus the change feed) and elect one checker per endpoint.
 *
 * A unique violation is `conflict` naming the field; a database that cannot be reached is
 * `storage_unavailable` (503).
 *
 * @throws LlmlbError `invalid_request` for a malformed config.
 * @example
 * const storage = postgresStorage({ connectionString: 'postgres://llmlb@db.internal/llmlb' });
 * const router = createRouter({ storage, secret: process.env.LLMLB_SECRET });
 * await router.start();
 */
export function postgresStorage(config: PostgresStorageConfig): StorageAdapter {
  return new SqlStorage(postgresDialect(toSource(config)));
}
