/**
 * What is PostgreSQL's own in llmlb's SQL storage: a `pg` pool (loaded lazily), write
 * transactions serialised by an advisory lock so change-feed positions commit in order,
 * migrations in one transaction under an advisory lock, a `NOTIFY` trigger on the change feed,
 * and recognising unique violations and connection failures.
 */
import { Kysely, type Migration, PostgresDialect, type PostgresPool, sql } from 'kysely';
import type { UniqueField } from '../conflict.js';
import type { SqlDialect } from '../sql/dialect.js';
import { oneOf } from '../sql/migrations.js';
import { onConnection } from '../sql/transaction.js';
import type { LlmlbDatabase } from '../sql/tables.js';
import { CHANGE_KINDS } from '../types.js';
import { CHANGES_CHANNEL, listenForChanges } from './listen.js';

/** Where the data is, from a validated `PostgresStorageConfig`. */
export type PostgresSource =
  | { readonly kind: 'url'; readonly connectionString: string }
  | { readonly kind: 'pool'; readonly pool: PostgresPool }
  | { readonly kind: 'kysely'; readonly kysely: Kysely<LlmlbDatabase> };

/** Advisory lock keys (64-bit, llmlb's own): one serialises feed writes, one migrations. */
const FEED_LOCK = 0x6c6c6d6c62_01n;
const MIGRATION_LOCK = 0x6c6c6d6c62_02n;

/** Opens a pool the adapter owns; `pg` is loaded on first use only. */
async function openPool(connectionString: string): Promise<PostgresPool> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // A connection the server closes (a restart, `pg_terminate_backend`) reports an error on its
  // client — on the pool while idle, on the client itself while checked out between queries.
  // Without listeners either would crash the process; the client is dropped instead, and the
  // next query opens a new connection (or fails with `storage_unavailable`).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The pool of a source with one (opened on first use). */
function poolOf(source: Exclude<PostgresSource, { kind: 'kysely' }>): () => Promise<PostgresPool> {
  if (source.kind === 'pool') return async () => source.pool;
  let opened: Promise<PostgresPool> | undefined;
  return () => (opened ??= openPool(source.connectionString));
}

/** The kysely instance of a source and, unless the caller gave only a kysely instance, its pool. */
function connectionOf(source: PostgresSource): { db: Kysely<LlmlbDatabase>; pool?: () => Promise<PostgresPool> } {
  if (source.kind === 'kysely') return { db: source.kysely };
  const pool = poolOf(source);
  // Connects lazily, on the first query (init).
  return { db: new Kysely<LlmlbDatabase>({ dialect: new PostgresDialect({ pool }) }), pool };
}

/** A transaction on one connection holding `lock` until it ends. */
function lockedTransaction<T>(db: Kysely<LlmlbDatabase>, lock: bigint, fn: (conn: Kysely<LlmlbDatabase>) => Promise<T>): Promise<T> {
  const begin = async (conn: Kysely<LlmlbDatabase>): Promise<void> => {
    await sql`begin`.execute(conn);
    await sql`select pg_advisory_xact_lock(${lock})`.execute(conn);
  };
  return onConnection(db, begin, fn);
}

/** The `endpoints` column of a unique violation (SQLSTATE 23505), or `undefined`. */
function uniqueViolation(error: unknown): UniqueField | undefined {
  const e = error as { code?: unknown; table?: unknown; constraint?: unknown; detail?: unknown };
  if (typeof error !== 'object' || error === null || e.code !== '23505' || e.table !== 'endpoints') return undefined;
  const fromDetail = typeof e.detail === 'string' ? /^Key \((\w+)\)=/.exec(e.detail)?.[1] : undefined;
  const fromConstraint = e.constraint === 'endpoints_pkey' ? 'id' : /^endpoints_(\w+)_key$/.exec(String(e.constraint))?.[1];
  const column = fromDetail ?? fromConstraint;
  return column === 'id' || column === 'name' || column === 'base_url' ? column : undefined;
}

/** Socket-level failures and the server refusing or dropping connections. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH']);
/** `pg`'s own messages for a connection that failed or ended. */
const UNREACHABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed/i;

/** Whether an error means PostgreSQL cannot be reached (SQLSTATE class 08, 57P01–57P03, sockets). */
function unreachable(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return true;
    if (UNREACHABLE_MESSAGE.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some(unreachable)) return true;
  }
  return false;
}

/** `0002_postgres_notify`: every commit that appends to the change feed notifies listeners once. */
const notifyMigration: Migration = {
  async up(db): Promise<void> {
    await sql`create function llmlb_notify_change() returns trigger language plpgsql as $$
      begin perform pg_notify(${sql.lit(CHANGES_CHANNEL)}, ''); return null; end $$`.execute(db);
    await sql`create trigger llmlb_changes_notify after insert on llmlb_changes
      for each statement execute function llmlb_notify_change()`.execute(db);
  },
  async down(db): Promise<void> {
    await sql`drop trigger llmlb_changes_notify on llmlb_changes`.execute(db);
    await sql`drop function llmlb_notify_change()`.execute(db);
  },
};

/** Replaces the CHECK on the change feed's `kind` with one allowing `kinds`. */
// `Kysely<any>`: migrations are written against no table typings (kysely's Migration interface).
async function allowKinds(db: Kysely<any>, kinds: readonly string[]): Promise<void> {
  await sql`alter table llmlb_changes drop constraint llmlb_changes_kind_check`.execute(db);
  await sql`alter table llmlb_changes add constraint llmlb_changes_kind_check check (kind ${oneOf(kinds)})`.execute(db);
}

/** `0004_change_subjects`: the change feed names any record (`subject_id`) of every {@link CHANGE_KINDS}. */
const changeSubjectsMigration: Migration = {
  async up(db): Promise<void> {
    await sql`alter table llmlb_changes rename column endpoint_id to subject_id`.execute(db);
    await allowKinds(db, CHANGE_KINDS);
  },
  async down(db): Promise<void> {
    await sql`delete from llmlb_changes where kind not in ('endpoint', 'models', 'deleted')`.execute(db);
    await allowKinds(db, ['endpoint', 'models', 'deleted']);
    await sql`alter table llmlb_changes rename column subject_id to endpoint_id`.execute(db);
  },
};

/**
 * The PostgreSQL {@link SqlDialect} for a source: a connection string (a pool the adapter opens
 * and ends), a caller's `pg` pool, or a caller's kysely instance (neither is ever closed). With a
 * pool, changes are pushed through `LISTEN`; with only a kysely instance, routers poll.
 *
 * @example
 * const storage = new SqlStorage(postgresDialect({ kind: 'url', connectionString: 'postgres://…' }));
 */
export function postgresDialect(source: PostgresSource): SqlDialect {
  const { db, pool } = connectionOf(source);
  return Object.freeze({
    kind: 'postgres',
    location: undefined,
    columns: Object.freeze({ boolean: 'boolean', int64: 'bigint', float: 'double precision', serial: Object.freeze({ type: 'bigserial', autoIncrement: false }) }),
    db,
    owned: source.kind === 'url',
    shared: true,
    async connect(kysely: Kysely<LlmlbDatabase>): Promise<void> {
      await sql`select 1`.execute(kysely);
    },
    transaction: (kysely, fn) => lockedTransaction(kysely, FEED_LOCK, fn),
    // Kysely's Migrator takes its own session lock on the same connection; ours is taken first.
    migrate: (kysely, migrate) => lockedTransaction(kysely, MIGRATION_LOCK, migrate),
    uniqueViolation,
    unreachable,
    ownMigrations: Object.freeze({ '0002_postgres_notify': notifyMigration, '0004_change_subjects': changeSubjectsMigration }),
    watch: pool && ((onChange) => listenForChanges(pool, onChange)),
  } satisfies SqlDialect);
}
