/**
 * What a SQL database must provide for llmlb's generic SQL storage ({@link SqlStorage} in
 * `./adapter.js`): everything else — queries, row mapping, the change feed, leases, the
 * migrations themselves — is written once with kysely's query builder and shared.
 */
import type { Kysely, Migration } from 'kysely';
import type { ChangeListener } from '../types.js';
import type { UniqueField } from '../conflict.js';
import type { LlmlbDatabase } from './tables.js';

/**
 * Column types that differ between databases, used by the shared migrations.
 *
 * @example
 * const columns: SqlColumnTypes = { boolean: 'integer', int64: 'integer', float: 'real', serial: { type: 'integer', autoIncrement: true } };
 */
export interface SqlColumnTypes {
  /** True/false columns: `integer` holding 0 or 1 (with a CHECK) where there is no boolean type. */
  readonly boolean: 'integer' | 'boolean';
  /** 64-bit integer columns (epoch milliseconds, feed positions): SQLite `integer`, PostgreSQL `bigint`. */
  readonly int64: 'integer' | 'bigint';
  /** A 64-bit floating-point column: SQLite `real`, PostgreSQL `double precision`. */
  readonly float: 'real' | 'double precision';
  /**
   * The change feed's key, assigned by the database and never reused: SQLite `integer` with
   * AUTOINCREMENT, PostgreSQL `bigserial`.
   */
  readonly serial: { readonly type: 'integer' | 'bigserial'; readonly autoIncrement: boolean };
}

/**
 * A database for {@link SqlStorage}: how to open, own and close it, how to write in a
 * transaction, how to recognise a unique violation, and how to migrate under a lock.
 *
 * @example
 * const storage = new SqlStorage(sqliteDialect(source));
 */
export interface SqlDialect {
  /** Short name of the database: the adapter's `kind` and the prefix of its error messages. */
  readonly kind: string;
  /** Where the data lives, named in "cannot open" errors (a file name), if worth naming. */
  readonly location: string | undefined;
  /** Column types for the migrations. */
  readonly columns: SqlColumnTypes;
  /** The kysely instance to query. Created up front; it must not connect before the first query. */
  readonly db: Kysely<LlmlbDatabase>;
  /** Whether the adapter opened the database itself (and so destroys `db` on close). */
  readonly owned: boolean;
  /** Runs first in `init()`, opening the database and setting what every connection needs. */
  connect(db: Kysely<LlmlbDatabase>): Promise<void>;
  /**
   * Runs `fn` in a write transaction on one connection and commits, or rolls back and rethrows.
   * Writes that append to the change feed run here, and must commit in `seq` order (SQLite's
   * single writer does; a database with concurrent writers serialises them with a lock).
   */
  transaction<T>(db: Kysely<LlmlbDatabase>, fn: (trx: Kysely<LlmlbDatabase>) => Promise<T>): Promise<T>;
  /**
   * Runs `migrate` (kysely's Migrator, with its own transactions disabled) so that concurrent
   * starts serialise and a failure leaves the schema untouched: SQLite in one `BEGIN IMMEDIATE`
   * transaction, PostgreSQL in a transaction holding an advisory lock.
   */
  // `any`: migrations are written against no table typings (kysely's Migration interface).
  migrate(db: Kysely<LlmlbDatabase>, migrate: (db: Kysely<any>) => Promise<void>): Promise<void>;
  /** The `endpoints` column a driver error reports as a unique violation, or `undefined`. */
  uniqueViolation(error: unknown): UniqueField | undefined;
  /** Whether a driver error means the database cannot be reached (→ `storage_unavailable`). */
  unreachable?(error: unknown): boolean;
  /** Whether several routers share the database (see {@link StorageAdapter.shared}). */
  readonly shared?: boolean;
  /** Push notification of feed changes (see {@link StorageAdapter.watch}). */
  watch?(onChange: ChangeListener): () => Promise<void>;
  /**
   * Migrations only this database runs, merged with the shared ones by name (e.g. PostgreSQL's
   * `NOTIFY` trigger on the change feed). Names must sort after the shared migration they need.
   */
  // `any`: migrations are written against no table typings (kysely's Migration interface).
  readonly ownMigrations?: Readonly<Record<string, Migration>>;
}
