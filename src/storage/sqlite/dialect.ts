/**
 * What is SQLite's own in llmlb's SQL storage: opening a file with the right pragmas,
 * `BEGIN IMMEDIATE` write transactions, recognising its constraint errors, and running the
 * migrations under its write lock.
 */
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, sql } from 'kysely';
import type { UniqueField } from '../conflict.js';
import type { SqlDialect } from '../sql/dialect.js';
import { onConnection } from '../sql/transaction.js';
import type { LlmlbDatabase } from '../sql/tables.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

/** Where the data is, from a validated `SqliteStorageConfig`. */
export type SqliteSource =
  | { readonly kind: 'file'; readonly filename: string; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'database'; readonly database: SqliteDatabase }
  | { readonly kind: 'kysely'; readonly kysely: Kysely<LlmlbDatabase> };

/** Opens and configures a database file the adapter owns. */
async function openDatabase(filename: string, synchronous: 'full' | 'normal'): Promise<BetterSqlite3.Database> {
  // Loaded on first use, so routers that never touch SQLite never load the native module.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(filename);
  try {
    if (filename !== ':memory:' && filename !== '') db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** The kysely instance of a source, created without opening anything. */
function kyselyOf(source: SqliteSource): Kysely<LlmlbDatabase> {
  switch (source.kind) {
    case 'file':
      // Opened lazily, on the first query (init), so constructing the adapter never throws and
      // never loads the native module.
      return new Kysely({
        dialect: new SqliteDialect({ database: () => openDatabase(source.filename, source.synchronous) }),
      });
    case 'database':
      return new Kysely({ dialect: new SqliteDialect({ database: source.database }) });
    case 'kysely':
      return source.kysely;
  }
}

/**
 * The tails of this process's write queues, by database file. better-sqlite3 waits for a lock by
 * blocking the thread, so two connections of one process to one file must never wait on each
 * other: their write transactions queue here first.
 */
const fileQueues = new Map<string, Promise<void>>();

/** The queue key of a database file, or `undefined` for a private in-memory database. */
function fileKey(filename: unknown): string | undefined {
  return typeof filename === 'string' && filename !== '' && filename !== ':memory:' ? resolve(filename) : undefined;
}

/** Runs `fn` after every earlier write of this process to the same file. */
function queued<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (key === undefined) return fn();
  const run = (fileQueues.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  fileQueues.set(key, tail);
  void tail.then(() => {
    if (fileQueues.get(key) === tail) fileQueues.delete(key);
  });
  return run;
}

/**
 * A write transaction on one connection, queued behind this process's other writes to the same
 * file: `BEGIN IMMEDIATE` takes the write lock up front, so a concurrent writer (another process
 * on the same file) waits on `busy_timeout` instead of failing half-way when a read transaction
 * cannot be upgraded.
 */
function transactionOn(key: string | undefined): SqlDialect['transaction'] {
  return (db, fn) => queued(key, () => onConnection(db, (conn) => sql`begin immediate`.execute(conn), fn));
}

/** The `endpoints` column of a UNIQUE / PRIMARY KEY violation, or `undefined`. */
function uniqueViolation(error: unknown): UniqueField | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const isUnique =
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    error.message.startsWith('UNIQUE constraint failed:');
  if (!isUnique) return undefined;
  const column = /\bendpoints\.(name|base_url|id)\b/.exec(error.message)?.[1];
  return column as UniqueField | undefined;
}

/** The file a source writes to, when known (a caller's kysely instance does not say). */
function fileOf(source: SqliteSource): unknown {
  if (source.kind === 'file') return source.filename;
  // better-sqlite3 names its file; other `SqliteDatabase`s may not.
  return source.kind === 'database' ? (source.database as { name?: unknown }).name : undefined;
}

/**
 * The SQLite {@link SqlDialect} for a source: a file the adapter opens (and closes), or a
 * caller's better-sqlite3 database or kysely instance (never closed). Every connection gets
 * `foreign_keys = ON`, which cascading deletes need and SQLite leaves off by default.
 *
 * @example
 * const storage = new SqlStorage(sqliteDialect({ kind: 'file', filename: './llmlb.db', synchronous: 'full' }));
 */
export function sqliteDialect(source: SqliteSource): SqlDialect {
  const transaction = transactionOn(fileKey(fileOf(source)));
  return Object.freeze({
    kind: 'sqlite',
    location: source.kind === 'file' ? source.filename : undefined,
    columns: Object.freeze({
      boolean: 'integer',
      int64: 'integer',
      float: 'real',
      serial: Object.freeze({ type: 'integer', autoIncrement: true }),
    }),
    db: kyselyOf(source),
    owned: source.kind === 'file',
    async connect(db: Kysely<LlmlbDatabase>): Promise<void> {
      await sql`pragma foreign_keys = ON`.execute(db);
    },
    transaction,
    // The whole run, schema changes and bookkeeping rows, holds SQLite's write lock.
    migrate: transaction,
    uniqueViolation,
    ownMigrations: SQLITE_MIGRATIONS,
  });
}
