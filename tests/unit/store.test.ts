/**
 * The endpoint store, the one writer: storage first, then the registry, then typed events; stale
 * records never win; a second store on the same storage catches up from the change feed.
 */
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/storage/memory/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { EndpointStore, type StoreEvents } from '../../src/store.js';
import { makeEndpointRecord, makeHealthCheck } from '../helpers/records.js';

async function openStore(storage: StorageAdapter = memoryStorage()): Promise<{ store: EndpointStore; storage: StorageAdapter; events: string[] }> {
  await storage.init();
  const store = new EndpointStore(storage);
  await store.load();
  const events: string[] = [];
  for (const name of ['endpointAdded', 'endpointChanged', 'endpointRemoved', 'modelsChanged', 'statusChanged'] as (keyof StoreEvents)[]) {
    store.on(name, () => events.push(name));
  }
  return { store, storage, events };
}

describe('EndpointStore', () => {
  it('writes storage, then the registry, and announces each change', async () => {
    const { store, storage, events } = await openStore();
    const record = await store.create(makeEndpointRecord());
    expect(store.registry.getEndpoint(record.id)).toEqual(record);
    expect(await storage.getEndpoint(record.id)).toEqual(record);

    const renamed = await store.update(record.id, { name: 'renamed' });
    expect(renamed.version).toBe(record.version + 1);
    expect(store.registry.getEndpoint(record.id)?.name).toBe('renamed');

    const checked = await store.recordCheck(record.id, { status: 'online' }, makeHealthCheck(record.id));
    expect(checked?.status).toBe('online');
    const diff = await store.replaceModels(record.id, [{ model_id: 'm', capabilities: ['chat'] }], '2026-01-01T00:00:00.000Z');
    expect(diff).toEqual({ added: ['m'], removed: [], updated: [] });
    expect(store.registry.onlineEndpointsFor('m').map((e) => e.id)).toEqual([record.id]);

    expect(await store.remove(record.id)).toBe(true);
    expect(store.registry.getEndpoint(record.id)).toBeUndefined();
    expect(events).toEqual(['endpointAdded', 'endpointChanged', 'endpointChanged', 'statusChanged', 'modelsChanged', 'endpointRemoved']);
  });

  it('routes only to enabled endpoints: disabled and pending_approval ones are known but not candidates', async () => {
    const { store } = await openStore();
    const record = await store.create(makeEndpointRecord({ status: 'online' }));
    await store.replaceModels(record.id, [{ model_id: 'm', capabilities: ['chat'] }], '2026-01-01T00:00:00.000Z');
    expect(store.registry.onlineEndpointsFor('m')).toHaveLength(1);
    for (const admin_state of ['disabled', 'pending_approval'] as const) {
      await store.update(record.id, { admin_state });
      expect(store.registry.onlineEndpointsFor('m')).toHaveLength(0);
      expect(store.registry.hasModel('m')).toBe(true);
    }
    await store.update(record.id, { admin_state: 'enabled' });
    expect(store.registry.onlineEndpointsFor('m')).toHaveLength(1);
  });

  it('a second store on the same storage catches up with every kind of write, once', async () => {
    const storage = memoryStorage();
    const a = await openStore(storage);
    const b = await openStore(storage);
    const record = await a.store.create(makeEndpointRecord());
    await a.store.update(record.id, { notes: 'rack 3' });
    await a.store.recordCheck(record.id, { status: 'online' }, makeHealthCheck(record.id));
    await a.store.replaceModels(record.id, [{ model_id: 'm', capabilities: ['chat'] }], '2026-01-01T00:00:00.000Z');

    expect(b.store.registry.getEndpoint(record.id)).toBeUndefined();
    expect(await b.store.catchUp()).toBeGreaterThanOrEqual(4);
    expect(b.store.registry.getEndpoint(record.id)).toMatchObject({ notes: 'rack 3', status: 'online', version: record.version + 2 });
    expect(b.store.registry.onlineEndpointsFor('m').map((e) => e.id)).toEqual([record.id]);
    expect(b.events).toContain('endpointAdded');
    expect(b.events).toContain('modelsChanged');

    // Nothing new: nothing applied, nothing announced.
    const before = b.events.length;
    expect(await b.store.catchUp()).toBe(0);
    expect(b.events).toHaveLength(before);

    // Its own writes read back from the feed are not applied twice.
    const own = a.events.length;
    await a.store.catchUp();
    expect(a.events).toHaveLength(own);

    await a.store.remove(record.id);
    await b.store.catchUp();
    expect(b.store.registry.getEndpoint(record.id)).toBeUndefined();
    expect(b.store.registry.hasModel('m')).toBe(false);
  });

  it('hands changes of other records to their reader, in feed order, and moves the cursor past them', async () => {
    const feed = [
      { seq: 1, subject_id: 'key-1', kind: 'key' as const },
      { seq: 2, subject_id: 'fast', kind: 'alias' as const },
      { seq: 3, subject_id: 'key-1', kind: 'key' as const },
      { seq: 4, subject_id: 'node-1', kind: 'node' as const },
    ];
    // Only what loading and catching up call: a feed of another instance's writes of other records.
    const withFeed = {
      init: async () => undefined,
      latestChange: async () => 0,
      listEndpoints: async () => [],
      listAllModels: async () => [],
      changesSince: async (cursor: number) => {
        const changes = feed.filter((c) => c.seq > cursor);
        return { changes, cursor: changes.at(-1)?.seq ?? cursor };
      },
    } as Partial<StorageAdapter> as StorageAdapter;
    const { store } = await openStore(withFeed);
    const read: string[] = [];
    store.followRecords('key', async (id) => void read.push(`key ${id}`));
    store.followRecords('alias', async (id) => void read.push(`alias ${id}`));

    expect(await store.catchUp()).toBe(4);
    expect(read).toEqual(['key key-1', 'alias fast', 'key key-1']);
    expect(await store.catchUp()).toBe(0);
  });
});
