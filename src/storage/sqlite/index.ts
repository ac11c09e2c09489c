/**
 * SQLite storage (kysely + better-sqlite3): the embedded default. Data survives restarts; with
 * a file database the adapter runs in WAL mode with `synchronous = FULL`, so a committed write
 * is never lost on a crash.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { LlmlbError } from '../../errors.js';
import type {
  Capability,
  DiscoveredModel,
  EndpointHealthCheck,
  EndpointModel,
  EndpointPatch,
  EndpointRecord,
  ModelSetDiff,
} from '../../schema.js';
import { diffModelSets } from '../models-diff.js';
import { patchFields } from '../patch.js';
import type { EndpointFilter, StorageAdapter } from '../types.js';
import { migrateToLatest } from './migrations.js';
import type {
  EndpointHealthChecksTable,
  EndpointModelsTable,
  EndpointsTable,
  LlmlbDatabase,
} from './types.js';

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
 * llmlb's tables are `endpoints`, `endpoint_models` and `endpoint_health_checks`; its migration
 * bookkeeping lives in `llmlb_migration` / `llmlb_migration_lock`, so it can share a database
 * with a host application's own kysely migrations.
 *
 * @example
 * const config: SqliteStorageConfig = { filename: './llmlb.db', synchronous: 'normal' };
 */
export type SqliteStorageConfig =
  | { readonly filename: string; readonly synchronous?: 'full' | 'normal' }
  | { readonly database: SqliteDatabase }
  // `any`: the caller's kysely is typed with the caller's own tables.
  | { readonly kysely: Kysely<any> };

type Source =
  | { readonly kind: 'file'; readonly filename: string; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'database'; readonly database: SqliteDatabase }
  | { readonly kind: 'kysely'; readonly kysely: Kysely<LlmlbDatabase> };

/** Rows per multi-row statement: far below SQLite's bound-parameter limit even on old builds. */
const CHUNK = 200;

class SqliteStorage implements StorageAdapter {
  readonly kind = 'sqlite';
  readonly #source: Source;
  readonly #db: Kysely<LlmlbDatabase>;
  /** Whether the adapter opened the database (and so must close it). */
  readonly #owned: boolean;
  #initPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(source: Source) {
    this.#source = source;
    switch (source.kind) {
      case 'file':
        // Opened lazily, on the first query (init), so constructing the adapter never throws
        // and never loads the native module.
        this.#db = new Kysely<LlmlbDatabase>({
          dialect: new SqliteDialect({ database: () => openDatabase(source.filename, source.synchronous) }),
        });
        this.#owned = true;
        break;
      case 'database':
        this.#db = new Kysely<LlmlbDatabase>({ dialect: new SqliteDialect({ database: source.database }) });
        this.#owned = false;
        break;
      case 'kysely':
        this.#db = source.kysely;
        this.#owned = false;
        break;
    }
  }

  init(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#initPromise ??= this.#migrate().catch((error: unknown) => {
      this.#initPromise = undefined;
      throw error;
    });
    return this.#initPromise;
  }

  async #migrate(): Promise<void> {
    try {
      // Opens the database if we own it. Cascading deletes need foreign keys, which SQLite
      // leaves off by default — also on databases the caller hands us.
      await sql`pragma foreign_keys = ON`.execute(this.#db);
    } catch (error) {
      const what = this.#source.kind === 'file' ? ` ${JSON.stringify(this.#source.filename)}` : '';
      throw new LlmlbError('internal_error', `sqlite storage: cannot open database${what}`, { cause: error });
    }
    await migrateToLatest(this.#db);
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#shutdown();
    return this.#closePromise;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    await this.#initPromise?.catch(() => undefined);
    await Promise.allSettled([...this.#inFlight]);
    if (this.#owned) await this.#db.destroy();
  }

  /** Runs one storage operation: checks the lifecycle, tracks it for close(), normalises errors. */
  #op<T>(operation: string, fn: (db: Kysely<LlmlbDatabase>) => Promise<T>): Promise<T> {
    const run = (async () => {
      if (this.#closed) throw closedError();
      if (this.#initPromise === undefined) {
        throw new LlmlbError('internal_error', 'sqlite storage: call init() before using the storage');
      }
      // Operations called before close() run to completion: close() waits for them.
      await this.#initPromise;
      try {
        return await fn(this.#db);
      } catch (error) {
        if (error instanceof LlmlbError) throw error;
        throw new LlmlbError('internal_error', `sqlite storage: ${operation} failed`, { cause: error });
      }
    })();
    this.#inFlight.add(run);
    const forget = (): void => {
      this.#inFlight.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  async insertEndpoint(record: EndpointRecord): Promise<void> {
    await this.#op('insertEndpoint', async (db) => {
      try {
        await db.insertInto('endpoints').values(toEndpointRow(record)).execute();
      } catch (error) {
        throw conflictFrom(error, record) ?? error;
      }
    });
  }

  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined> {
    return this.#op('updateEndpoint', (db) => applyPatch(db, id, patch));
  }

  deleteEndpoint(id: string): Promise<boolean> {
    return this.#op('deleteEndpoint', (db) =>
      // The foreign keys cascade too; deleting the children explicitly keeps this correct even
      // on a caller-provided connection where foreign keys were switched off again.
      transaction(db, async (trx) => {
        await trx.deleteFrom('endpoint_models').where('endpoint_id', '=', id).execute();
        await trx.deleteFrom('endpoint_health_checks').where('endpoint_id', '=', id).execute();
        const result = await trx.deleteFrom('endpoints').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      }),
    );
  }

  getEndpoint(id: string): Promise<EndpointRecord | undefined> {
    return this.#op('getEndpoint', async (db) => {
      const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toEndpointRecord(row);
    });
  }

  listEndpoints(filter: EndpointFilter = {}): Promise<EndpointRecord[]> {
    return this.#op('listEndpoints', async (db) => {
      let query = db.selectFrom('endpoints').selectAll();
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      const rows = await query.orderBy('registered_at').orderBy('id').execute();
      // Same comparator as the memory adapter, so both order identically.
      return rows
        .map(toEndpointRecord)
        .sort((a, b) => a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id));
    });
  }

  replaceEndpointModels(
    endpointId: string,
    models: readonly DiscoveredModel[],
    checkedAt: string,
  ): Promise<ModelSetDiff | undefined> {
    const rows = models.map((m) => ({
      endpoint_id: endpointId,
      model_id: m.model_id,
      capabilities: JSON.stringify(m.capabilities),
      last_checked: checkedAt,
    }));
    return this.#op('replaceEndpointModels', (db) =>
      transaction(db, async (trx) => {
        const endpoint = await trx.selectFrom('endpoints').select('id').where('id', '=', endpointId).executeTakeFirst();
        if (!endpoint) return undefined;
        const current = await trx
          .selectFrom('endpoint_models')
          .select('model_id')
          .where('endpoint_id', '=', endpointId)
          .execute();
        const diff = diffModelSets(
          current.map((r) => r.model_id),
          models,
        );
        for (const ids of chunks(diff.removed, CHUNK)) {
          await trx
            .deleteFrom('endpoint_models')
            .where('endpoint_id', '=', endpointId)
            .where('model_id', 'in', ids)
            .execute();
        }
        for (const chunk of chunks(rows, CHUNK)) {
          await trx
            .insertInto('endpoint_models')
            .values(chunk)
            .onConflict((oc) =>
              oc.columns(['endpoint_id', 'model_id']).doUpdateSet((eb) => ({
                capabilities: eb.ref('excluded.capabilities'),
                last_checked: eb.ref('excluded.last_checked'),
              })),
            )
            .execute();
        }
        return diff;
      }),
    );
  }

  listEndpointModels(endpointId: string): Promise<EndpointModel[]> {
    return this.#op('listEndpointModels', async (db) => {
      const rows = await db
        .selectFrom('endpoint_models')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('model_id')
        .execute();
      // SQLite compares UTF-8 bytes, JavaScript UTF-16 code units; re-sort (cheap, the input is
      // already sorted) so the order matches the memory adapter for every model id.
      return rows.map(toEndpointModel).sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0));
    });
  }

  listAllModels(): Promise<EndpointModel[]> {
    return this.#op('listAllModels', async (db) => {
      const rows = await db.selectFrom('endpoint_models').selectAll().orderBy('endpoint_id').orderBy('model_id').execute();
      return rows.map(toEndpointModel);
    });
  }

  recordHealthCheck(
    endpointId: string,
    patch: EndpointPatch,
    check: EndpointHealthCheck,
  ): Promise<EndpointRecord | undefined> {
    return this.#op('recordHealthCheck', (db) =>
      transaction(db, async (trx) => {
        const updated = await applyPatch(trx, endpointId, patch);
        if (!updated) return undefined;
        await trx
          .insertInto('endpoint_health_checks')
          .values({
            id: check.id,
            endpoint_id: endpointId,
            checked_at: check.checked_at,
            success: check.success ? 1 : 0,
            latency_ms: check.latency_ms,
            error_message: check.error_message,
            status_before: check.status_before,
            status_after: check.status_after,
          })
          .execute();
        return updated;
      }),
    );
  }

  listHealthChecks(endpointId: string, options: { limit?: number } = {}): Promise<EndpointHealthCheck[]> {
    return this.#op('listHealthChecks', async (db) => {
      let query = db
        .selectFrom('endpoint_health_checks')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('checked_at', 'desc')
        // Equal timestamps: insertion order, like the memory adapter's stable sort.
        .orderBy(sql`rowid`);
      const { limit } = options;
      if (limit !== undefined && limit !== Infinity) query = query.limit(Math.max(0, Math.trunc(limit) || 0));
      const rows = await query.execute();
      return rows.map(toHealthCheck);
    });
  }

  deleteHealthChecksBefore(cutoff: string): Promise<number> {
    return this.#op('deleteHealthChecksBefore', async (db) => {
      const result = await db.deleteFrom('endpoint_health_checks').where('checked_at', '<', cutoff).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

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

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction on one connection: the write lock is taken up
 * front, so a concurrent writer (another process on the same file) waits on `busy_timeout`
 * instead of failing half-way when a read transaction cannot be upgraded.
 */
async function transaction<T>(db: Kysely<LlmlbDatabase>, fn: (trx: Kysely<LlmlbDatabase>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/** Updates an endpoint in one statement and returns the stored row; `undefined` if missing. */
async function applyPatch(
  db: Kysely<LlmlbDatabase>,
  id: string,
  patch: EndpointPatch,
): Promise<EndpointRecord | undefined> {
  const set = patchFields(patch) as Updateable<EndpointsTable>;
  if (Object.keys(set).length === 0) {
    const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEndpointRecord(row);
  }
  try {
    const row = await db.updateTable('endpoints').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toEndpointRecord(row);
  } catch (error) {
    throw conflictFrom(error, { name: patch.name }) ?? error;
  }
}

/**
 * Turns a UNIQUE / PRIMARY KEY violation on `endpoints` into `conflict`, naming only the
 * offending name or base_url (never other fields of the record). Anything else: `undefined`.
 */
function conflictFrom(
  error: unknown,
  attempted: { id?: string; name?: string | undefined; base_url?: string },
): LlmlbError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const isUnique =
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    error.message.startsWith('UNIQUE constraint failed:');
  if (!isUnique) return undefined;
  const column = /\bendpoints\.(name|base_url|id)\b/.exec(error.message)?.[1];
  switch (column) {
    case 'name':
      return new LlmlbError('conflict', `an endpoint named ${JSON.stringify(attempted.name)} already exists`, {
        cause: error,
      });
    case 'base_url':
      return new LlmlbError('conflict', `an endpoint with base_url ${attempted.base_url} already exists`, {
        cause: error,
      });
    case 'id':
      return new LlmlbError('conflict', `endpoint ${attempted.id} already exists`, { cause: error });
    default:
      return undefined;
  }
}

function closedError(): LlmlbError {
  return new LlmlbError('internal_error', 'sqlite storage: the storage is closed');
}

function toEndpointRow(record: EndpointRecord): Insertable<EndpointsTable> {
  return {
    id: record.id,
    name: record.name,
    base_url: record.base_url,
    api_key_encrypted: record.api_key_encrypted,
    status: record.status,
    health_check_interval_secs: record.health_check_interval_secs,
    inference_timeout_secs: record.inference_timeout_secs,
    latency_ms: record.latency_ms,
    last_seen: record.last_seen,
    last_error: record.last_error,
    error_count: record.error_count,
    registered_at: record.registered_at,
    updated_at: record.updated_at,
    notes: record.notes,
  };
}

function toEndpointRecord(row: Selectable<EndpointsTable>): EndpointRecord {
  return {
    id: row.id,
    name: row.name,
    base_url: row.base_url,
    api_key_encrypted: row.api_key_encrypted,
    status: row.status,
    health_check_interval_secs: Number(row.health_check_interval_secs),
    inference_timeout_secs: Number(row.inference_timeout_secs),
    latency_ms: intOrNull(row.latency_ms),
    last_seen: row.last_seen,
    last_error: row.last_error,
    error_count: Number(row.error_count),
    registered_at: row.registered_at,
    updated_at: row.updated_at,
    notes: row.notes,
  };
}

function toEndpointModel(row: Selectable<EndpointModelsTable>): EndpointModel {
  return {
    endpoint_id: row.endpoint_id,
    model_id: row.model_id,
    capabilities: parseCapabilities(row.capabilities),
    last_checked: row.last_checked,
  };
}

function toHealthCheck(row: Selectable<EndpointHealthChecksTable>): EndpointHealthCheck {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    checked_at: row.checked_at,
    success: Number(row.success) === 1,
    latency_ms: intOrNull(row.latency_ms),
    error_message: row.error_message,
    status_before: row.status_before,
    status_after: row.status_after,
  };
}

function intOrNull(value: number | bigint | null): number | null {
  return value === null ? null : Number(value);
}

function parseCapabilities(text: string): Capability[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((c): c is string => typeof c === 'string')) {
    throw new Error('endpoint_models.capabilities is not a JSON array of strings');
  }
  return value;
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function invalidConfig(message: string): LlmlbError {
  return new LlmlbError('invalid_request', `sqliteStorage: ${message}`);
}

function toSource(config: SqliteStorageConfig): Source {
  if (typeof config !== 'object' || config === null) throw invalidConfig('config must be an object');
  const fields = config as { filename?: unknown; synchronous?: unknown; database?: unknown; kysely?: unknown };
  const given = (['filename', 'database', 'kysely'] as const).filter((key) => fields[key] !== undefined);
  if (given.length !== 1) throw invalidConfig('pass exactly one of filename, database or kysely');
  if (fields.filename !== undefined) {
    if (typeof fields.filename !== 'string') throw invalidConfig('filename must be a string');
    const synchronous = fields.synchronous ?? 'full';
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw invalidConfig(`synchronous must be 'full' or 'normal'`);
    }
    return Object.freeze({ kind: 'file', filename: fields.filename, synchronous });
  }
  if (fields.database !== undefined) {
    const database = fields.database as SqliteDatabase;
    if (typeof database.prepare !== 'function') throw invalidConfig('database must be a better-sqlite3 Database');
    return Object.freeze({ kind: 'database', database });
  }
  const kysely = fields.kysely as Kysely<LlmlbDatabase>;
  if (typeof kysely.connection !== 'function') throw invalidConfig('kysely must be a Kysely instance');
  return Object.freeze({ kind: 'kysely', kysely });
}

/**
 * SQLite storage: endpoints, models and health-check history in a SQLite database, through
 * kysely's `SqliteDialect` and better-sqlite3. `init()` creates or migrates the schema (a no-op
 * when it is current); `close()` closes the database only if the adapter opened it.
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
  return new SqliteStorage(toSource(config));
}
