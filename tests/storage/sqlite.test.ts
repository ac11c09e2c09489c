import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import type { EndpointRecord } from '../../src/schema.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { makeEndpointRecord, makeHealthCheck } from '../helpers/records.js';
import { runStorageConformance } from './conformance.js';
import {
  callerDatabase,
  rejection,
  releaseAll,
  schemaNames,
  tempFile,
  track,
  trackDatabase,
} from './sqlite-resources.js';

// Records every better-sqlite3 database opened in this file, so the tests can inspect the
// connection the adapter opened itself (connection-level pragmas such as foreign_keys).
const openedDatabases = vi.hoisted(() => [] as Database.Database[]);
vi.mock('better-sqlite3', async (importOriginal) => {
  const actual = await importOriginal<{ default: typeof Database }>();
  class RecordingDatabase extends actual.default {
    constructor(...args: ConstructorParameters<typeof Database>) {
      super(...args);
      openedDatabases.push(this);
    }
  }
  return { ...actual, default: RecordingDatabase };
});

/** Every migration of the current release, as `llmlb_migration` lists them. */
const ALL_MIGRATIONS = [
  { name: '0001_initial' },
  { name: '0002_fleet' },
  { name: '0003_routing' },
  { name: '0004_change_subjects' },
  { name: '0005_backends' },
  { name: '0006_aliases' },
  { name: '0007_keys' },
  { name: '0008_nodes' },
];

const callerKyselys: Kysely<unknown>[] = [];

afterEach(async () => {
  await releaseAll();
  for (const kysely of callerKyselys.splice(0)) await kysely.destroy();
  for (const db of openedDatabases.splice(0)) if (db.open) db.close();
});

runStorageConformance('sqlite (file)', async () => {
  const filename = await tempFile();
  return { storage: sqliteStorage({ filename }), reopen: async () => sqliteStorage({ filename }) };
});

runStorageConformance('sqlite (:memory:)', async () => ({ storage: sqliteStorage({ filename: ':memory:' }) }));

runStorageConformance('sqlite (caller-provided better-sqlite3 database)', async () => {
  const database = callerDatabase();
  // Reopening on the same database also proves close() left it open and intact.
  return { storage: sqliteStorage({ database }), reopen: async () => sqliteStorage({ database }) };
});

runStorageConformance('sqlite (caller-provided kysely)', async () => {
  const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: callerDatabase() }) });
  callerKyselys.push(kysely);
  return { storage: sqliteStorage({ kysely }), reopen: async () => sqliteStorage({ kysely }) };
});

/** The better-sqlite3 connection the adapter opened for `filename`. */
function connectionFor(filename: string): Database.Database {
  const db = openedDatabases.find((d) => d.name === filename);
  if (!db) throw new Error(`no connection opened for ${filename}`);
  return db;
}

describe('sqliteStorage: schema and migrations', () => {
  it('has kind "sqlite"', () => {
    expect(track(sqliteStorage({ filename: ':memory:' })).kind).toBe('sqlite');
  });

  it('records applied migrations in llmlb_migration and creates the schema', async () => {
    const filename = await tempFile();
    const storage = track(sqliteStorage({ filename }));
    await storage.init();
    await storage.close();

    const db = new Database(filename, { readonly: true });
    trackDatabase(db);
    expect(db.prepare('SELECT name FROM llmlb_migration ORDER BY name').all()).toEqual(ALL_MIGRATIONS);
    expect(schemaNames(db, 'table')).toEqual([
      'endpoint_health_checks',
      'endpoint_models',
      'endpoints',
      'llmlb_changes',
      'llmlb_key_usage',
      'llmlb_keys',
      'llmlb_leases',
      'llmlb_migration',
      'llmlb_migration_lock',
      'model_aliases',
      'nodes',
    ]);
    expect(schemaNames(db, 'index')).toEqual([
      'endpoint_health_checks_checked_at_idx',
      'endpoint_health_checks_endpoint_checked_idx',
      'endpoint_models_model_id_idx',
      'endpoints_status_idx',
      'llmlb_changes_changed_at_idx',
      'llmlb_key_usage_hour_idx',
    ]);
    const cascades = db
      .prepare(
        `SELECT m.name AS tbl, f."table" AS parent, f.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) f
         WHERE m.type = 'table' ORDER BY m.name`,
      )
      .all();
    expect(cascades).toEqual([
      { tbl: 'endpoint_health_checks', parent: 'endpoints', on_delete: 'CASCADE' },
      { tbl: 'endpoint_models', parent: 'endpoints', on_delete: 'CASCADE' },
      { tbl: 'nodes', parent: 'endpoints', on_delete: 'CASCADE' },
    ]);
  });

  it('treats a second init() and a restart on an existing file as no-ops', async () => {
    const filename = await tempFile();
    const first = track(sqliteStorage({ filename }));
    await first.init();
    const record = makeEndpointRecord();
    await first.insertEndpoint(record);
    await first.init();
    await first.close();

    const raw = new Database(filename, { readonly: true });
    trackDatabase(raw);
    const before = raw.prepare('SELECT name, timestamp FROM llmlb_migration').all();
    raw.close();

    const second = track(sqliteStorage({ filename }));
    await Promise.all([second.init(), second.init()]);
    expect(await second.listEndpoints()).toStrictEqual([record]);
    await second.close();

    const after = new Database(filename, { readonly: true });
    trackDatabase(after);
    expect(after.prepare('SELECT name, timestamp FROM llmlb_migration').all()).toEqual(before);
    expect(before).toHaveLength(ALL_MIGRATIONS.length);
  });

  it('shares a database with a host app’s own kysely migrations', async () => {
    const database = callerDatabase();
    database.exec(`CREATE TABLE kysely_migration (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL)`);
    database.exec(`INSERT INTO kysely_migration VALUES ('host_0001', '2024-01-01T00:00:00.000Z')`);
    const storage = track(sqliteStorage({ database }));
    await storage.init();
    expect(database.prepare('SELECT name FROM kysely_migration').all()).toEqual([{ name: 'host_0001' }]);
    expect(database.prepare('SELECT name FROM llmlb_migration ORDER BY name').all()).toEqual(ALL_MIGRATIONS);
  });
});

describe('sqliteStorage: opening', () => {
  it('opens a file database in WAL mode with foreign keys, busy timeout and synchronous FULL', async () => {
    const filename = await tempFile();
    const storage = track(sqliteStorage({ filename }));
    await storage.init();
    const db = connectionFor(filename);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await storage.close();
    expect(db.open).toBe(false);
  });

  it('uses synchronous NORMAL when asked to', async () => {
    const filename = await tempFile();
    const storage = track(sqliteStorage({ filename, synchronous: 'normal' }));
    await storage.init();
    expect(connectionFor(filename).pragma('synchronous', { simple: true })).toBe(1); // NORMAL
  });

  it('opens ":memory:" without WAL', async () => {
    const storage = track(sqliteStorage({ filename: ':memory:' }));
    await storage.init();
    const db = connectionFor(':memory:');
    expect(db.pragma('journal_mode', { simple: true })).toBe('memory');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('does not open the database before init()', async () => {
    const filename = await tempFile();
    const storage = track(sqliteStorage({ filename }));
    expect(openedDatabases).toHaveLength(0);
    await storage.close();
    expect(openedDatabases).toHaveLength(0);
  });

  it('fails init() with internal_error when the file cannot be opened', async () => {
    const parent = dirname(await tempFile());
    const storage = track(sqliteStorage({ filename: join(parent, 'missing', 'llmlb.db') }));
    const error = await rejection(storage.init());
    expect(error.code).toBe('internal_error');
    expect(error.message).toContain('cannot open');
    expect(error.cause).toBeDefined();
  });

  it('fails init() with internal_error and leaves nothing behind when a migration fails', async () => {
    const database = callerDatabase();
    database.exec('CREATE TABLE endpoints (something_else TEXT)');
    const storage = track(sqliteStorage({ database }));
    const error = await rejection(storage.init());
    expect(error.code).toBe('internal_error');
    expect(error.message).toContain('migration');
    expect(error.cause).toBeInstanceOf(Error);
    const tables = database
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['endpoints']);
  });
});

describe('sqliteStorage: caller-owned databases and config', () => {
  it('leaves a caller-provided database open on close and switches on its foreign keys', async () => {
    const database = callerDatabase();
    database.pragma('foreign_keys = OFF');
    const storage = track(sqliteStorage({ database }));
    await storage.init();
    expect(database.pragma('foreign_keys', { simple: true })).toBe(1);
    const record = makeEndpointRecord();
    await storage.insertEndpoint(record);
    await storage.close();
    await storage.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT id FROM endpoints').all()).toEqual([{ id: record.id }]);
  });

  it('does not destroy a caller-provided kysely on close', async () => {
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: callerDatabase() }) });
    callerKyselys.push(kysely);
    const storage = track(sqliteStorage({ kysely }));
    await storage.init();
    await storage.insertEndpoint(makeEndpointRecord());
    await storage.close();
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM endpoints`.execute(kysely);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('reads integers correctly from a database with safeIntegers enabled', async () => {
    const database = callerDatabase();
    database.defaultSafeIntegers(true);
    const storage = track(sqliteStorage({ database }));
    await storage.init();
    const record = makeEndpointRecord({ latency_ms: 12, error_count: 3 });
    await storage.insertEndpoint(record);
    expect(await storage.getEndpoint(record.id)).toStrictEqual(record);
    await storage.recordHealthCheck(record.id, {}, makeHealthCheck(record.id, { latency_ms: 9 }));
    const [check] = await storage.listHealthChecks(record.id);
    expect(check?.success).toBe(true);
    expect(check?.latency_ms).toBe(9);
    expect(await storage.deleteHealthChecksBefore('9999-01-01T00:00:00.000Z')).toBe(1);
  });

  it('rejects a malformed config with invalid_request', () => {
    const bad: unknown[] = [
      {},
      { filename: ':memory:', database: new Database(':memory:') },
      { filename: 42 },
      { filename: ':memory:', synchronous: 'off' },
      { database: {} },
      { kysely: {} },
      null,
    ];
    for (const config of bad) {
      let caught: unknown;
      try {
        sqliteStorage(config as Parameters<typeof sqliteStorage>[0]);
      } catch (e) {
        caught = e;
      }
      expect(caught, JSON.stringify(config)).toBeInstanceOf(LlmlbError);
      expect((caught as LlmlbError).code).toBe('invalid_request');
    }
  });
});

describe('sqliteStorage: concurrency and errors', () => {
  it('enforces uniqueness across two adapters on the same file', async () => {
    const filename = await tempFile();
    const a = track(sqliteStorage({ filename }));
    const b = track(sqliteStorage({ filename }));
    await a.init();
    await b.init();
    const results = await Promise.allSettled([
      a.insertEndpoint(makeEndpointRecord({ name: 'shared' })),
      b.insertEndpoint(makeEndpointRecord({ name: 'shared' })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'conflict' });
    expect(await a.listEndpoints()).toHaveLength(1);
    expect(await b.listEndpoints()).toHaveLength(1);
  });

  it('grants a lease to one of two adapters racing on the same file', async () => {
    const filename = await tempFile();
    const [a, b] = [track(sqliteStorage({ filename })), track(sqliteStorage({ filename }))];
    await a.init();
    await b.init();
    const now = Date.parse('2025-01-01T00:00:00.000Z');
    const won = await Promise.all([a.tryLease('checker', 'a', 1000, now), b.tryLease('checker', 'b', 1000, now)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const [holder, other] = won[0] ? ['a', b] : ['b', a];
    expect(await other.tryLease('checker', holder === 'a' ? 'b' : 'a', 1000, now + 999)).toBe(false);
    expect(await other.tryLease('checker', holder, 1000, now + 999)).toBe(true);
  });

  it('rejects an invalid status through the CHECK constraint, not as a conflict', async () => {
    const storage = track(sqliteStorage({ filename: ':memory:' }));
    await storage.init();
    const bogus = { ...makeEndpointRecord(), status: 'bogus' } as unknown as EndpointRecord;
    const error = await rejection(storage.insertEndpoint(bogus));
    expect(error.code).toBe('internal_error');
    expect(error.cause).toBeDefined();
    expect(await storage.listEndpoints()).toEqual([]);
  });

  it('rejects use before init() and after close()', async () => {
    const storage = track(sqliteStorage({ filename: ':memory:' }));
    expect((await rejection(storage.listEndpoints())).code).toBe('internal_error');
    await storage.init();
    expect(await storage.listEndpoints()).toEqual([]);
    await storage.close();
    expect((await rejection(storage.listEndpoints())).code).toBe('internal_error');
    expect((await rejection(storage.init())).code).toBe('internal_error');
  });

  it('lets in-flight operations finish before closing', async () => {
    const storage = track(sqliteStorage({ filename: ':memory:' }));
    await storage.init();
    const record = makeEndpointRecord();
    const insert = storage.insertEndpoint(record);
    const models = storage.replaceEndpointModels(record.id, [{ model_id: 'm', capabilities: ['chat'] }], 'x');
    await storage.close();
    await expect(insert).resolves.toBeUndefined();
    await expect(models).resolves.toStrictEqual({ added: ['m'], removed: [], updated: [] });
  });
});
