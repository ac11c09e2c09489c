/**
 * The storage conformance suite: the same cases for every {@link StorageAdapter}, so adapters
 * are interchangeable. Each adapter's test file calls {@link runStorageConformance}.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import type { DiscoveredModel, EndpointRecord } from '../../src/schema.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { makeEndpointRecord, makeHealthCheck, T0, T1, T2, T3 } from '../helpers/records.js';

/** What an adapter factory returns: a fresh, empty storage, and optionally a way to reopen it. */
export interface ConformanceTarget {
  /** A new, empty, not yet initialised adapter. */
  storage: StorageAdapter;
  /** A new adapter on the same underlying data (for restart persistence); not yet initialised. */
  reopen?: () => Promise<StorageAdapter>;
}

const CHAT: DiscoveredModel = { model_id: 'llama3.1:8b', capabilities: ['chat'] };
const EMBED: DiscoveredModel = { model_id: 'nomic-embed-text', capabilities: ['embeddings'] };

async function expectConflict(promise: Promise<unknown>, mentions?: string): Promise<LlmlbError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmlbError);
  const llmlbError = error as LlmlbError;
  expect(llmlbError.code).toBe('conflict');
  if (mentions !== undefined) expect(llmlbError.message).toContain(mentions);
  return llmlbError;
}

function byModelKey(a: { endpoint_id: string; model_id: string }, b: { endpoint_id: string; model_id: string }): number {
  return a.endpoint_id.localeCompare(b.endpoint_id) || a.model_id.localeCompare(b.model_id);
}

/**
 * Registers the conformance cases for one adapter. `makeStorage` is called before every case and
 * must return a fresh, empty, uninitialised adapter; the suite calls `init()` and `close()`.
 *
 * @example
 * runStorageConformance('memory', async () => ({ storage: memoryStorage() }));
 */
export function runStorageConformance(name: string, makeStorage: () => Promise<ConformanceTarget>): void {
  describe(`storage conformance: ${name}`, () => {
    let storage: StorageAdapter;
    let reopen: (() => Promise<StorageAdapter>) | undefined;
    const opened: StorageAdapter[] = [];

    beforeEach(async () => {
      const target = await makeStorage();
      storage = target.storage;
      reopen = target.reopen;
      opened.push(storage);
      await storage.init();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    /** A new {@link makeEndpointRecord} record (with `overrides`), inserted into `storage`. */
    async function inserted(overrides: Partial<EndpointRecord> = {}): Promise<EndpointRecord> {
      const record = makeEndpointRecord(overrides);
      await storage.insertEndpoint(record);
      return record;
    }

    describe('endpoints', () => {
      it('reports a kind and tolerates a second init()', async () => {
        expect(typeof storage.kind).toBe('string');
        expect(storage.kind.length).toBeGreaterThan(0);
        await storage.init();
        expect(await storage.listEndpoints()).toEqual([]);
      });

      it('round-trips an inserted endpoint exactly', async () => {
        const bare = makeEndpointRecord();
        const full = makeEndpointRecord({
          api_key_encrypted: 'v1:abc:def:ghi',
          status: 'online',
          health_check_interval_secs: 10,
          inference_timeout_secs: 600,
          latency_ms: 17,
          last_seen: T2,
          last_error: 'connection refused',
          error_count: 3,
          registered_at: T1,
          updated_at: T2,
          notes: 'GPU box — 日本語 ok',
        });
        await storage.insertEndpoint(bare);
        await storage.insertEndpoint(full);
        expect(await storage.getEndpoint(bare.id)).toStrictEqual(bare);
        expect(await storage.getEndpoint(full.id)).toStrictEqual(full);
        expect(await storage.getEndpoint(randomUUID())).toBeUndefined();
      });

      it('lists by registered_at, then id', async () => {
        const ids = [randomUUID(), randomUUID(), randomUUID()].sort();
        const late = makeEndpointRecord({ registered_at: T3 });
        const tieB = makeEndpointRecord({ id: ids[2]!, registered_at: T1 });
        const early = makeEndpointRecord({ registered_at: T0 });
        const tieA = makeEndpointRecord({ id: ids[0]!, registered_at: T1 });
        const middle = makeEndpointRecord({ id: ids[1]!, registered_at: T2 });
        for (const r of [late, tieB, early, tieA, middle]) await storage.insertEndpoint(r);
        const listed = await storage.listEndpoints();
        expect(listed.map((e) => e.id)).toEqual([early.id, tieA.id, tieB.id, middle.id, late.id]);
        expect(listed[0]).toStrictEqual(early);
      });

      it('updates only the patched fields and returns the stored result', async () => {
        const record = await inserted({ notes: 'old', api_key_encrypted: 'v1:key' });
        const other = await inserted();

        const patch = { name: 'renamed', status: 'online', latency_ms: 5, notes: null, api_key_encrypted: null, updated_at: T3 } as const;
        const updated = await storage.updateEndpoint(record.id, patch);
        const expected: EndpointRecord = { ...record, ...patch, version: 2 };
        expect(updated).toStrictEqual(expected);
        expect(await storage.getEndpoint(record.id)).toStrictEqual(expected);
        expect(await storage.getEndpoint(other.id)).toStrictEqual(other);

        // Every update is a write, even one that changes no field.
        expect(await storage.updateEndpoint(record.id, {})).toStrictEqual({ ...expected, version: 3 });
        expect(await storage.updateEndpoint(record.id, { name: 'renamed' })).toStrictEqual({ ...expected, version: 4 });
      });

      it('returns undefined when updating a missing endpoint, and creates nothing', async () => {
        expect(await storage.updateEndpoint(randomUUID(), { name: 'ghost', status: 'online' })).toBeUndefined();
        expect(await storage.listEndpoints()).toEqual([]);
      });

      it('deletes an endpoint once', async () => {
        const record = await inserted();
        const other = await inserted();
        expect(await storage.deleteEndpoint(record.id)).toBe(true);
        expect(await storage.getEndpoint(record.id)).toBeUndefined();
        expect(await storage.deleteEndpoint(record.id)).toBe(false);
        expect(await storage.deleteEndpoint(randomUUID())).toBe(false);
        expect(await storage.listEndpoints()).toStrictEqual([other]);
      });

      it('frees the name and base_url of a deleted endpoint', async () => {
        const record = await inserted();
        await storage.deleteEndpoint(record.id);
        const again = await inserted({ name: record.name, base_url: record.base_url });
        expect(await storage.listEndpoints()).toStrictEqual([again]);
      });
    });

    describe('uniqueness', () => {
      // name and base_url are each unique on their own: a clash on one is a conflict that
      // changes nothing, does not leak either record's key, and reserves nothing.
      for (const [field, other] of [
        ['name', 'base_url'],
        ['base_url', 'name'],
      ] as const) {
        it(`rejects a duplicate ${field} on insert and changes nothing`, async () => {
          const first = await inserted({ api_key_encrypted: 'v1:do-not-leak' });
          const dup = makeEndpointRecord({ [field]: first[field], api_key_encrypted: 'v1:also-secret' });
          const error = await expectConflict(storage.insertEndpoint(dup), first[field]);
          expect(error.message).not.toContain('secret');
          expect(error.message).not.toContain('do-not-leak');
          expect(await storage.getEndpoint(dup.id)).toBeUndefined();
          expect(await storage.listEndpoints()).toStrictEqual([first]);
          // The failed insert must not have reserved its other unique field either.
          await inserted({ [other]: dup[other] });
          expect(await storage.listEndpoints()).toHaveLength(2);
        });
      }

      it('rejects a duplicate id on insert', async () => {
        const first = await inserted();
        await expectConflict(storage.insertEndpoint(makeEndpointRecord({ id: first.id })));
        expect(await storage.listEndpoints()).toStrictEqual([first]);
      });

      it('rejects renaming to a taken name and changes nothing', async () => {
        const a = await inserted();
        const b = await inserted({ registered_at: T1 });
        await expectConflict(storage.updateEndpoint(b.id, { name: a.name, notes: 'changed', status: 'online' }), a.name);
        expect(await storage.getEndpoint(a.id)).toStrictEqual(a);
        expect(await storage.getEndpoint(b.id)).toStrictEqual(b);
      });

      it('rejects a health-check patch that would take a taken name, writing nothing', async () => {
        const a = await inserted();
        const b = await inserted({ registered_at: T1 });
        await expectConflict(storage.recordHealthCheck(b.id, { name: a.name, status: 'online' }, makeHealthCheck(b.id)));
        expect(await storage.getEndpoint(b.id)).toStrictEqual(b);
        expect(await storage.listHealthChecks(b.id)).toEqual([]);
      });

      for (const [field, value] of [
        ['name', 'racer'],
        ['base_url', 'http://shared.test:8000'],
      ] as const) {
        it(`keeps ${field}s unique under concurrent inserts`, async () => {
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, () => storage.insertEndpoint(makeEndpointRecord({ [field]: value }))),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(rejected).toHaveLength(19);
          for (const r of rejected) {
            expect(r.reason).toBeInstanceOf(LlmlbError);
            expect((r.reason as LlmlbError).code).toBe('conflict');
          }
          const listed = await storage.listEndpoints();
          expect(listed).toHaveLength(1);
          expect(listed[0]?.[field]).toBe(value);
        });
      }

      it('keeps names unique under concurrent renames', async () => {
        const records = Array.from({ length: 10 }, () => makeEndpointRecord());
        for (const r of records) await storage.insertEndpoint(r);
        const results = await Promise.allSettled(records.map((r) => storage.updateEndpoint(r.id, { name: 'taken' })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'conflict' });
        }
        const names = (await storage.listEndpoints()).map((e) => e.name);
        expect(names.filter((n) => n === 'taken')).toHaveLength(1);
      });
    });

    describe('models', () => {
      it('replaces the model set and reports the diff', async () => {
        const record = await inserted();
        expect(await storage.listEndpointModels(record.id)).toEqual([]);

        const first = await storage.replaceEndpointModels(record.id, [EMBED, CHAT], T1);
        expect(first).toStrictEqual({ added: [CHAT.model_id, EMBED.model_id], removed: [], updated: [] });
        expect(await storage.listEndpointModels(record.id)).toStrictEqual([
          { endpoint_id: record.id, model_id: CHAT.model_id, capabilities: ['chat'], last_checked: T1 },
          { endpoint_id: record.id, model_id: EMBED.model_id, capabilities: ['embeddings'], last_checked: T1 },
        ]);

        const second = await storage.replaceEndpointModels(
          record.id,
          [
            { model_id: 'qwen2.5:7b', capabilities: ['chat'] },
            { model_id: CHAT.model_id, capabilities: ['chat', 'tools'] },
          ],
          T2,
        );
        expect(second).toStrictEqual({ added: ['qwen2.5:7b'], removed: [EMBED.model_id], updated: [CHAT.model_id] });
        expect(await storage.listEndpointModels(record.id)).toStrictEqual([
          { endpoint_id: record.id, model_id: CHAT.model_id, capabilities: ['chat', 'tools'], last_checked: T2 },
          { endpoint_id: record.id, model_id: 'qwen2.5:7b', capabilities: ['chat'], last_checked: T2 },
        ]);

        const cleared = await storage.replaceEndpointModels(record.id, [], T3);
        expect(cleared).toStrictEqual({ added: [], removed: [CHAT.model_id, 'qwen2.5:7b'], updated: [] });
        expect(await storage.listEndpointModels(record.id)).toEqual([]);
      });

      it('keeps each endpoint’s models separate', async () => {
        const a = await inserted();
        const b = await inserted();
        await storage.replaceEndpointModels(a.id, [CHAT], T1);
        await storage.replaceEndpointModels(b.id, [CHAT, EMBED], T2);
        const diff = await storage.replaceEndpointModels(a.id, [EMBED], T3);
        expect(diff).toStrictEqual({ added: [EMBED.model_id], removed: [CHAT.model_id], updated: [] });
        expect((await storage.listEndpointModels(b.id)).map((m) => m.model_id)).toEqual([CHAT.model_id, EMBED.model_id]);
      });

      it('orders models by model id', async () => {
        const record = await inserted();
        const ids = ['mistral', 'Llama', 'bge-m3', 'a:latest', 'zeta', '0-model'];
        await storage.replaceEndpointModels(
          record.id,
          ids.map((model_id) => ({ model_id, capabilities: ['chat'] })),
          T1,
        );
        const expected = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect((await storage.listEndpointModels(record.id)).map((m) => m.model_id)).toEqual(expected);
      });

      it('handles large model sets', async () => {
        const record = await inserted();
        const models = Array.from({ length: 1500 }, (_, i) => ({
          model_id: `model-${String(i).padStart(4, '0')}`,
          capabilities: ['chat'],
        }));
        const diff = await storage.replaceEndpointModels(record.id, models, T1);
        expect(diff?.added).toHaveLength(1500);
        const next = await storage.replaceEndpointModels(record.id, models.slice(700), T2);
        expect(next?.removed).toHaveLength(700);
        expect(next?.updated).toHaveLength(800);
        expect(next?.added).toHaveLength(0);
        const stored = await storage.listEndpointModels(record.id);
        expect(stored).toHaveLength(800);
        expect(stored.every((m) => m.last_checked === T2)).toBe(true);
      });

      it('returns undefined for a missing endpoint and writes nothing', async () => {
        const missing = randomUUID();
        expect(await storage.replaceEndpointModels(missing, [CHAT], T1)).toBeUndefined();
        expect(await storage.listEndpointModels(missing)).toEqual([]);
        expect(await storage.listAllModels()).toEqual([]);
      });

      it('lists every model of every endpoint', async () => {
        const a = await inserted();
        const b = await inserted();
        expect(await storage.listAllModels()).toEqual([]);
        await storage.replaceEndpointModels(a.id, [CHAT, EMBED], T1);
        await storage.replaceEndpointModels(b.id, [CHAT], T2);
        const all = await storage.listAllModels();
        expect([...all].sort(byModelKey)).toStrictEqual(
          [
            { endpoint_id: a.id, model_id: CHAT.model_id, capabilities: ['chat'], last_checked: T1 },
            { endpoint_id: a.id, model_id: EMBED.model_id, capabilities: ['embeddings'], last_checked: T1 },
            { endpoint_id: b.id, model_id: CHAT.model_id, capabilities: ['chat'], last_checked: T2 },
          ].sort(byModelKey),
        );
      });
    });

    describe('health checks', () => {
      it('records a check: updates the endpoint and appends exactly one row', async () => {
        const record = await inserted();
        const check = makeHealthCheck(record.id, { checked_at: T1, latency_ms: 12 });
        const patch = { status: 'online', latency_ms: 12, last_seen: T1, error_count: 0, updated_at: T1 } as const;
        const updated = await storage.recordHealthCheck(record.id, patch, check);
        const expected: EndpointRecord = { ...record, ...patch, version: 2 };
        expect(updated).toStrictEqual(expected);
        expect(await storage.getEndpoint(record.id)).toStrictEqual(expected);
        expect(await storage.listHealthChecks(record.id)).toStrictEqual([check]);

        const failure = makeHealthCheck(record.id, {
          checked_at: T2,
          success: false,
          latency_ms: null,
          error_message: 'HTTP 503',
          status_before: 'online',
          status_after: 'online',
        });
        const afterFailure = await storage.recordHealthCheck(
          record.id,
          { error_count: 1, last_error: 'HTTP 503', updated_at: T2 },
          failure,
        );
        expect(afterFailure).toStrictEqual({ ...expected, error_count: 1, last_error: 'HTTP 503', updated_at: T2, version: 3 });
        const history = await storage.listHealthChecks(record.id);
        expect(history).toStrictEqual([failure, check]);
        expect(history[0]?.success).toBe(false);
        expect(history[1]?.success).toBe(true);
      });

      it('records a check with an empty patch', async () => {
        const record = await inserted();
        const check = makeHealthCheck(record.id);
        expect(await storage.recordHealthCheck(record.id, {}, check)).toStrictEqual({ ...record, version: 2 });
        expect(await storage.listHealthChecks(record.id)).toStrictEqual([check]);
      });

      it('writes nothing and returns undefined for a deleted endpoint', async () => {
        const record = await inserted();
        const other = await inserted();
        await storage.deleteEndpoint(record.id);
        const result = await storage.recordHealthCheck(
          record.id,
          { status: 'online', updated_at: T2 },
          makeHealthCheck(record.id),
        );
        expect(result).toBeUndefined();
        expect(await storage.getEndpoint(record.id)).toBeUndefined();
        expect(await storage.listHealthChecks(record.id)).toEqual([]);
        expect(await storage.listEndpoints()).toStrictEqual([other]);
        expect(await storage.deleteHealthChecksBefore('9999-12-31T23:59:59.999Z')).toBe(0);
      });

      it('lists history newest first, with an optional limit', async () => {
        const record = await inserted();
        const other = await inserted();
        const c1 = makeHealthCheck(record.id, { checked_at: T1 });
        const c3 = makeHealthCheck(record.id, { checked_at: T3 });
        const c2 = makeHealthCheck(record.id, { checked_at: T2 });
        for (const c of [c1, c3, c2]) await storage.recordHealthCheck(record.id, {}, c);
        await storage.recordHealthCheck(other.id, {}, makeHealthCheck(other.id, { checked_at: T3 }));

        expect(await storage.listHealthChecks(record.id)).toStrictEqual([c3, c2, c1]);
        expect(await storage.listHealthChecks(record.id, { limit: 2 })).toStrictEqual([c3, c2]);
        expect(await storage.listHealthChecks(record.id, { limit: 1 })).toStrictEqual([c3]);
        expect(await storage.listHealthChecks(record.id, { limit: 10 })).toStrictEqual([c3, c2, c1]);
        expect(await storage.listHealthChecks(record.id, {})).toHaveLength(3);
        expect(await storage.listHealthChecks(other.id)).toHaveLength(1);
        expect(await storage.listHealthChecks(randomUUID())).toEqual([]);
      });

      it('deletes history strictly older than the cutoff and returns the count', async () => {
        const a = await inserted();
        const b = await inserted();
        const a1 = makeHealthCheck(a.id, { checked_at: T1 });
        const a2 = makeHealthCheck(a.id, { checked_at: T2 });
        const a3 = makeHealthCheck(a.id, { checked_at: T3 });
        const b1 = makeHealthCheck(b.id, { checked_at: T0 });
        const b2 = makeHealthCheck(b.id, { checked_at: T2 });
        for (const c of [a1, a2, a3]) await storage.recordHealthCheck(a.id, {}, c);
        for (const c of [b1, b2]) await storage.recordHealthCheck(b.id, {}, c);

        expect(await storage.deleteHealthChecksBefore(T2)).toBe(2);
        expect(await storage.listHealthChecks(a.id)).toStrictEqual([a3, a2]);
        expect(await storage.listHealthChecks(b.id)).toStrictEqual([b2]);
        expect(await storage.deleteHealthChecksBefore(T2)).toBe(0);
        expect(await storage.deleteHealthChecksBefore(T0)).toBe(0);
        // The endpoints themselves are untouched.
        expect(await storage.listEndpoints()).toHaveLength(2);
      });
    });

    describe('cascades', () => {
      it('deletes an endpoint’s models and history with it', async () => {
        const record = await inserted();
        const other = await inserted();
        await storage.replaceEndpointModels(record.id, [CHAT, EMBED], T1);
        await storage.replaceEndpointModels(other.id, [CHAT], T1);
        await storage.recordHealthCheck(record.id, { status: 'online' }, makeHealthCheck(record.id, { checked_at: T1 }));
        await storage.recordHealthCheck(record.id, {}, makeHealthCheck(record.id, { checked_at: T2 }));
        const otherCheck = makeHealthCheck(other.id, { checked_at: T1 });
        await storage.recordHealthCheck(other.id, {}, otherCheck);

        expect(await storage.deleteEndpoint(record.id)).toBe(true);
        expect(await storage.listEndpointModels(record.id)).toEqual([]);
        expect(await storage.listHealthChecks(record.id)).toEqual([]);
        expect((await storage.listAllModels()).map((m) => m.endpoint_id)).toEqual([other.id]);
        expect(await storage.listHealthChecks(other.id)).toStrictEqual([otherCheck]);
        // Only the other endpoint's row is left to expire.
        expect(await storage.deleteHealthChecksBefore('9999-12-31T23:59:59.999Z')).toBe(1);

        // Re-registering the same endpoint starts from a clean slate.
        await storage.insertEndpoint(record);
        expect(await storage.listEndpointModels(record.id)).toEqual([]);
        expect(await storage.listHealthChecks(record.id)).toEqual([]);
      });
    });

    describe('isolation of returned and passed-in objects', () => {
      it('copies endpoint records in and out', async () => {
        const record = makeEndpointRecord({ notes: 'original' });
        const snapshot = { ...record };
        await storage.insertEndpoint(record);
        record.name = 'mutated-input';
        record.notes = 'mutated-input';

        const got = await storage.getEndpoint(snapshot.id);
        got!.name = 'mutated-get';
        const [listed] = await storage.listEndpoints();
        listed!.status = 'error';
        const updated = await storage.updateEndpoint(snapshot.id, { latency_ms: 1 });
        updated!.notes = 'mutated-update';
        const checked = await storage.recordHealthCheck(snapshot.id, { error_count: 2 }, makeHealthCheck(snapshot.id));
        checked!.error_count = 99;

        expect(await storage.getEndpoint(snapshot.id)).toStrictEqual({ ...snapshot, latency_ms: 1, error_count: 2, version: 3 });
      });

      it('copies models in and out', async () => {
        const record = await inserted();
        const models: DiscoveredModel[] = [{ model_id: 'm', capabilities: ['chat'] }];
        await storage.replaceEndpointModels(record.id, models, T1);
        models[0]!.capabilities.push('mutated-input');
        models[0]!.model_id = 'renamed';

        const [listed] = await storage.listEndpointModels(record.id);
        listed!.capabilities.push('mutated-list');
        listed!.last_checked = T3;
        const [all] = await storage.listAllModels();
        all!.capabilities.length = 0;

        expect(await storage.listEndpointModels(record.id)).toStrictEqual([
          { endpoint_id: record.id, model_id: 'm', capabilities: ['chat'], last_checked: T1 },
        ]);
      });

      it('copies health checks in and out', async () => {
        const record = await inserted();
        const check = makeHealthCheck(record.id);
        const snapshot = { ...check };
        await storage.recordHealthCheck(record.id, {}, check);
        check.success = false;
        check.error_message = 'mutated-input';
        const [listed] = await storage.listHealthChecks(record.id);
        listed!.latency_ms = 9999;
        expect(await storage.listHealthChecks(record.id)).toStrictEqual([snapshot]);
      });
    });

    describe('lifecycle', () => {
      it('closes idempotently, and keeps all data across a reopen when the adapter persists', async () => {
        const a = await inserted({ api_key_encrypted: 'v1:sealed', notes: 'keep me', status: 'online', latency_ms: 7 });
        await inserted({ registered_at: T1 });
        await storage.replaceEndpointModels(a.id, [CHAT, EMBED], T1);
        const c1 = makeHealthCheck(a.id, { checked_at: T1 });
        const c2 = makeHealthCheck(a.id, { checked_at: T2, success: false, latency_ms: null, error_message: 'timeout' });
        await storage.recordHealthCheck(a.id, {}, c1);
        await storage.recordHealthCheck(a.id, {}, c2);
        const endpointsBefore = await storage.listEndpoints();
        const modelsBefore = await storage.listEndpointModels(a.id);

        await storage.close();
        await storage.close();
        if (reopen === undefined) return;

        const reopened = await reopen();
        opened.push(reopened);
        await reopened.init();
        expect(await reopened.listEndpoints()).toStrictEqual(endpointsBefore);
        expect(await reopened.getEndpoint(a.id)).toStrictEqual({ ...a, version: 3 });
        expect(await reopened.listEndpointModels(a.id)).toStrictEqual(modelsBefore);
        expect(await reopened.listHealthChecks(a.id)).toStrictEqual([c2, c1]);
        // Uniqueness still holds after the restart.
        await expectConflict(reopened.insertEndpoint(makeEndpointRecord({ name: a.name })), a.name);
      });
    });
  });
}
