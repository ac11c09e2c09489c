/**
 * The SQLite schema across releases (a database the previous release created migrates and keeps
 * its rows) and what the SQL layer writes to it.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../../src/schema.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { aliasesMigration } from '../../src/storage/sql/aliases-migration.js';
import { backendsMigration } from '../../src/storage/sql/migrations.js';
import { keysMigration } from '../../src/storage/sql/key-migration.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { makeEndpointRecord, makeHealthCheck, T1, T2, T3 } from '../helpers/records.js';
import { callerDatabase, releaseAll, tempFile, track, trackDatabase } from './sqlite-resources.js';

/** The schema and rows of a database that only `0001_initial` has touched. */
const SCHEMA_0001 = readFileSync(new URL('./fixtures/schema-0001.sql', import.meta.url), 'utf8');
const GPU_1 = '8f14e45f-ceea-4e7a-9b1c-2d3e4f5a6b7c';
const GPU_2 = 'c9f0f895-fb98-4b5c-8d4e-1a2b3c4d5e6f';

afterEach(releaseAll);

/** A database file as the previous release left it. */
async function previousReleaseFile(): Promise<string> {
  const filename = await tempFile();
  const db = new Database(filename);
  db.exec(SCHEMA_0001);
  db.close();
  return filename;
}

/** Every schema object of the file at `filename` with its SQL, by name. */
function schemaOf(filename: string): unknown[] {
  const db = trackDatabase(new Database(filename, { readonly: true }));
  return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();
}

describe('sqlite schema upgrades', () => {
  it('migrates a database of the previous release and keeps its rows', async () => {
    const storage = track(sqliteStorage({ filename: await previousReleaseFile() }));
    await storage.init();

    const gpu1: EndpointRecord = {
      id: GPU_1,
      name: 'gpu-1',
      base_url: 'http://10.0.0.5:11434',
      api_key_encrypted: 'v1:iv:tag:data',
      status: 'online',
      admin_state: 'enabled',
      max_concurrency: null,
      priority: 0,
      weight: 1,
      type: 'openai-compatible',
      type_source: 'detected',
      health_check_interval_secs: 30,
      inference_timeout_secs: 120,
      latency_ms: 17,
      last_seen: T2,
      last_error: null,
      error_count: 0,
      registered_at: '2025-01-01T00:00:00.000Z',
      updated_at: T2,
      notes: 'rack 3',
      static_models: null,
      version: 1,
    };
    const listed = await storage.listEndpoints();
    expect(listed.map((e) => e.id)).toEqual([GPU_1, GPU_2]);
    expect(listed[0]).toStrictEqual(gpu1);
    expect(listed[1]).toMatchObject({ name: 'gpu-2', admin_state: 'enabled', version: 1, latency_ms: null });
    expect((await storage.listEndpointModels(GPU_1)).map((m) => [m.model_id, m.capabilities, m.capabilities_source, m.loaded])).toEqual([
      ['llama3.1:8b', ['chat'], 'name', null],
      ['nomic-embed-text', ['embeddings'], 'name', null],
    ]);
    const history = await storage.listHealthChecks(GPU_1);
    expect(history.map((c) => [c.checked_at, c.success, c.error_message])).toEqual([
      [T2, true, null],
      [T1, false, 'connection refused'],
    ]);

    // The migrated rows take part in everything new.
    expect(await storage.latestChange()).toBe(0);
    const tied = makeHealthCheck(GPU_1, { checked_at: T2 });
    await storage.recordHealthCheck(GPU_1, { admin_state: 'disabled' }, tied);
    expect(await storage.getEndpoint(GPU_1)).toStrictEqual({ ...gpu1, admin_state: 'disabled', version: 2 });
    expect((await storage.listHealthChecks(GPU_1, { limit: 2 })).map((c) => c.id)).toEqual([tied.id, history[0]!.id]);
    expect((await storage.changesSince(0)).changes).toEqual([{ seq: 1, subject_id: GPU_1, kind: 'endpoint' }]);
    expect(await storage.tryLease('checker', 'a', 1000, 0)).toBe(true);
  });

  it('ends with exactly the schema of a database created by this release', async () => {
    const upgraded = await previousReleaseFile();
    const created = await tempFile();
    for (const filename of [upgraded, created]) {
      const storage = sqliteStorage({ filename });
      await storage.init();
      await storage.close();
    }
    const schema = schemaOf(created);
    expect(schema.length).toBeGreaterThan(10);
    expect(schemaOf(upgraded)).toStrictEqual(schema);
  });

  it('keeps the feed positions handed out before 0004_change_subjects, even after retention emptied the feed', async () => {
    const filename = await tempFile();
    const before = sqliteStorage({ filename });
    await before.init();
    for (const id of [GPU_1, GPU_2]) await before.insertEndpoint(makeEndpointRecord({ id, name: id, base_url: `http://${id}` }));
    await before.insertEndpoint(makeEndpointRecord({ name: 'gpu-3', base_url: 'http://gpu-3' }));
    await before.close();
    // Back to the previous release's feed, with one row left over (retention ate the others).
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: trackDatabase(new Database(filename)) }) });
    // The previous release had none of 0004 to 0008: later ones are rolled back first.
    await sql`drop table nodes`.execute(db);
    await keysMigration({ boolean: 'integer', int64: 'integer', float: 'real', serial: { type: 'integer', autoIncrement: true } }).down!(db);
    await aliasesMigration.down!(db);
    await backendsMigration({ boolean: 'integer', int64: 'integer', float: 'real', serial: { type: 'integer', autoIncrement: true } }).down!(db);
    await SQLITE_MIGRATIONS['0004_change_subjects']!.down!(db);
    await sql`delete from llmlb_migration where name in ('0004_change_subjects', '0005_backends', '0006_aliases', '0007_keys', '0008_nodes')`.execute(db);
    await sql`delete from llmlb_changes where seq > 1`.execute(db);
    expect((await sql`select endpoint_id, kind from llmlb_changes`.execute(db)).rows).toEqual([{ endpoint_id: GPU_1, kind: 'endpoint' }]);

    const after = track(sqliteStorage({ filename }));
    await after.init();
    expect((await after.changesSince(0)).changes).toEqual([{ seq: 1, subject_id: GPU_1, kind: 'endpoint' }]);
    await after.updateEndpoint(GPU_2, { notes: 'moved' });
    expect((await after.changesSince(1)).changes).toEqual([{ seq: 4, subject_id: GPU_2, kind: 'endpoint' }]);
    await expect(sql`insert into llmlb_changes (subject_id, kind, changed_at) values ('k', 'key', ${T1})`.execute(db)).resolves.toBeDefined();
    await expect(sql`insert into llmlb_changes (subject_id, kind, changed_at) values ('k', 'other', ${T1})`.execute(db)).rejects.toThrow(/CHECK/);
  });

  it('rejects an admin_state outside ADMIN_STATES through the CHECK constraint', async () => {
    const database = callerDatabase();
    await track(sqliteStorage({ database })).init();
    const insert = database.prepare(
      `INSERT INTO endpoints (id, name, base_url, status, admin_state, health_check_interval_secs,
         inference_timeout_secs, registered_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 30, 120, ?, ?)`,
    );
    expect(() => insert.run('x', 'x', 'http://x', 'retired', T1, T1)).toThrow(/CHECK constraint failed/);
    expect(insert.run('y', 'y', 'http://y', 'pending_approval', T1, T1).changes).toBe(1);
  });
});

describe('sqlite model sets', () => {
  it('rewrites only the models whose capabilities changed', async () => {
    const database = callerDatabase();
    const storage = track(sqliteStorage({ database }));
    await storage.init();
    database.exec(`CREATE TABLE rewrites (model_id TEXT);
      CREATE TRIGGER log_rewrites AFTER UPDATE OF capabilities ON endpoint_models
      BEGIN INSERT INTO rewrites VALUES (new.model_id); END;`);
    const rewrites = (): unknown[] => database.prepare('SELECT model_id FROM rewrites ORDER BY rowid').pluck().all();
    await storage.insertEndpoint(makeEndpointRecord({ id: GPU_1 }));
    const models = ['a', 'b', 'c'].map((model_id) => ({ model_id, capabilities: ['chat'] }));
    await storage.replaceEndpointModels(GPU_1, models, T1);
    await storage.replaceEndpointModels(GPU_1, models, T2);
    expect(rewrites()).toEqual([]);
    expect((await storage.listEndpointModels(GPU_1)).map((m) => m.last_checked)).toEqual([T2, T2, T2]);

    await storage.replaceEndpointModels(GPU_1, [models[0]!, { model_id: 'b', capabilities: ['chat', 'tools'] }], T3);
    expect(rewrites()).toEqual(['b']);
    expect((await storage.listEndpointModels(GPU_1)).map((m) => [m.model_id, m.capabilities, m.last_checked])).toEqual([
      ['a', ['chat'], T3],
      ['b', ['chat', 'tools'], T3],
    ]);
  });
});
