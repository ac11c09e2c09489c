import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLlmlbError } from '../../src/errors.js';
import { postgresStorage } from '../../src/storage/postgres/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { makeEndpointRecord } from '../helpers/records.js';
import { runStorageConformance } from './conformance.js';
import { describePostgres, emptyTables, endPools, migrationNames, testDatabase, testKysely, testPool } from './postgres-resources.js';

let url = '';
beforeAll(async () => {
  url = await testDatabase();
});
afterAll(endPools);

describePostgres('postgresStorage', () => {
  runStorageConformance('postgres (connection string)', async () => {
    await emptyTables(url);
    return { storage: postgresStorage({ connectionString: url }), reopen: async () => postgresStorage({ connectionString: url }) };
  });

  // Each case gets its own pool; the previous case's is ended first, so that idle pools do not
  // pile up to the server's connection limit over hundreds of cases.
  runStorageConformance('postgres (caller-provided pg pool)', async () => {
    await endPools();
    await emptyTables(url);
    const pool = testPool(url);
    return { storage: postgresStorage({ pool }), reopen: async () => postgresStorage({ pool }) };
  });

  runStorageConformance('postgres (caller-provided kysely)', async () => {
    await endPools();
    await emptyTables(url);
    const kysely = testKysely(url);
    return { storage: postgresStorage({ kysely }), reopen: async () => postgresStorage({ kysely }) };
  });

  describe('schema, errors and notifications', () => {
    const opened: StorageAdapter[] = [];
    const open = (config: Parameters<typeof postgresStorage>[0]): StorageAdapter => {
      const storage = postgresStorage(config);
      opened.push(storage);
      return storage;
    };
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it('migrates once when several instances start together, and records the migrations', async () => {
      const fresh = await testDatabase();
      const storages = Array.from({ length: 4 }, () => open({ connectionString: fresh }));
      await Promise.all(storages.map((s) => s.init()));
      expect(await migrationNames(testKysely(fresh))).toEqual(['0001_initial', '0002_fleet', '0002_postgres_notify', '0003_routing', '0004_change_subjects', '0005_backends', '0006_aliases', '0007_keys', '0008_nodes']);
      expect(storages.every((s) => s.kind === 'postgres' && s.shared === true)).toBe(true);
    });

    it('maps a unique violation (23505) to conflict naming the field', async () => {
      await emptyTables(url);
      const storage = open({ connectionString: url });
      await storage.init();
      const a = makeEndpointRecord({ name: 'a', base_url: 'http://127.0.0.1:1' });
      await storage.insertEndpoint(a);
      const error = await storage.insertEndpoint(makeEndpointRecord({ name: 'b', base_url: a.base_url })).catch((e: unknown) => e);
      expect(isLlmlbError(error, 'conflict') && error.message).toContain('base_url');
    });

    it('pushes every committed change to watchers through LISTEN/NOTIFY', async () => {
      await emptyTables(url);
      const [writer, reader] = [open({ connectionString: url }), open({ pool: testPool(url) })];
      await Promise.all([writer.init(), reader.init()]);
      let resolveNext = (): void => undefined;
      let calls = 0;
      const stop = reader.watch!(() => {
        calls += 1;
        resolveNext();
      });
      // The first call comes once the listener is connected.
      await new Promise<void>((resolve) => (resolveNext = resolve));
      const notified = new Promise<void>((resolve) => (resolveNext = resolve));
      await writer.insertEndpoint(makeEndpointRecord());
      await notified;
      expect(calls).toBe(2);
      await stop();
    });

    it('reconnects a listening connection the server dropped, and tells the watcher to catch up', async () => {
      const watched = open({ connectionString: url });
      await watched.init();
      let calls = 0;
      let wake = (): void => undefined;
      const stop = watched.watch!(() => {
        calls += 1;
        wake();
      });
      const next = () => new Promise<void>((resolve) => (wake = resolve));
      await next();
      const reconnected = next();
      const admin = testPool(url);
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
      await reconnected;
      expect(calls).toBe(2);
      await stop();
    });

    it('has no watch on a bare kysely instance (routers poll instead)', () => {
      expect(open({ kysely: testKysely(url) }).watch).toBeUndefined();
    });

    it('rejects a malformed config', () => {
      expect(() => postgresStorage({ connectionString: 'mysql://x' })).toThrow(/postgres:\/\//);
      expect(() => postgresStorage({} as never)).toThrow(/exactly one/);
    });

    it('fails init with internal_error when the server cannot be reached (storage_unavailable is for a running router)', async () => {
      const storage = open({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
      const error = await storage.init().catch((e: unknown) => e);
      expect(isLlmlbError(error, 'internal_error') && error.message).toMatch(/postgres storage: cannot open/);
    });
  });
});
