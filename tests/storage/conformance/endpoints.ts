/** Conformance cases: endpoint rows and their uniqueness. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { LlmlbError } from '../../../src/errors.js';
import type { EndpointRecord } from '../../../src/schema.js';
import { makeEndpointRecord, makeHealthCheck, T0, T1, T2, T3 } from '../../helpers/records.js';
import { CHAT, expectConflict, type Suite } from './suite.js';

/** Inserting, reading, listing and updating endpoints. */
export function endpointRowCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('reports a kind and tolerates a second init()', async () => {
    expect(typeof suite.storage.kind).toBe('string');
    expect(suite.storage.kind.length).toBeGreaterThan(0);
    await suite.storage.init();
    expect(await suite.storage.listEndpoints()).toEqual([]);
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
    await suite.storage.insertEndpoint(bare);
    await suite.storage.insertEndpoint(full);
    expect(await suite.storage.getEndpoint(bare.id)).toStrictEqual(bare);
    expect(await suite.storage.getEndpoint(full.id)).toStrictEqual(full);
    expect(await suite.storage.getEndpoint(randomUUID())).toBeUndefined();
  });

  it('lists by registered_at, then id', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()].sort();
    const late = makeEndpointRecord({ registered_at: T3 });
    const tieB = makeEndpointRecord({ id: ids[2]!, registered_at: T1 });
    const early = makeEndpointRecord({ registered_at: T0 });
    const tieA = makeEndpointRecord({ id: ids[0]!, registered_at: T1 });
    const middle = makeEndpointRecord({ id: ids[1]!, registered_at: T2 });
    for (const r of [late, tieB, early, tieA, middle]) await suite.storage.insertEndpoint(r);
    const listed = await suite.storage.listEndpoints();
    expect(listed.map((e) => e.id)).toEqual([early.id, tieA.id, tieB.id, middle.id, late.id]);
    expect(listed[0]).toStrictEqual(early);
  });

  it('updates only the patched fields and returns the stored result', async () => {
    const record = await inserted({ notes: 'old', api_key_encrypted: 'v1:key' });
    const other = await inserted();

    const patch = { name: 'renamed', status: 'online', latency_ms: 5, notes: null, api_key_encrypted: null, updated_at: T3 } as const;
    const updated = await suite.storage.updateEndpoint(record.id, patch);
    const expected: EndpointRecord = { ...record, ...patch, version: 2 };
    expect(updated).toStrictEqual(expected);
    expect(await suite.storage.getEndpoint(record.id)).toStrictEqual(expected);
    expect(await suite.storage.getEndpoint(other.id)).toStrictEqual(other);

    // Every update is a write, even one that changes no field.
    expect(await suite.storage.updateEndpoint(record.id, {})).toStrictEqual({ ...expected, version: 3 });
    expect(await suite.storage.updateEndpoint(record.id, { name: 'renamed' })).toStrictEqual({ ...expected, version: 4 });
  });

  it('returns undefined when updating a missing endpoint, and creates nothing', async () => {
    expect(await suite.storage.updateEndpoint(randomUUID(), { name: 'ghost', status: 'online' })).toBeUndefined();
    expect(await suite.storage.listEndpoints()).toEqual([]);
  });
}

/** Deleting endpoints; versions and admin state. */
export function endpointWriteCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('deletes an endpoint once', async () => {
    const record = await inserted();
    const other = await inserted();
    expect(await suite.storage.deleteEndpoint(record.id)).toBe(true);
    expect(await suite.storage.getEndpoint(record.id)).toBeUndefined();
    expect(await suite.storage.deleteEndpoint(record.id)).toBe(false);
    expect(await suite.storage.deleteEndpoint(randomUUID())).toBe(false);
    expect(await suite.storage.listEndpoints()).toStrictEqual([other]);
  });

  it('frees the name and base_url of a deleted endpoint', async () => {
    const record = await inserted();
    await suite.storage.deleteEndpoint(record.id);
    const again = await inserted({ name: record.name, base_url: record.base_url });
    expect(await suite.storage.listEndpoints()).toStrictEqual([again]);
  });

  it('stores the version as given and raises it by one with every write of the row', async () => {
    const record = await inserted({ version: 7 });
    expect(await suite.storage.getEndpoint(record.id)).toStrictEqual(record);
    expect((await suite.storage.updateEndpoint(record.id, { notes: 'n' }))?.version).toBe(8);
    const check = makeHealthCheck(record.id);
    expect((await suite.storage.recordHealthCheck(record.id, { status: 'online' }, check))?.version).toBe(9);
    // A model sync does not write the endpoint row; a failed write changes nothing.
    await suite.storage.replaceEndpointModels(record.id, [CHAT], T1);
    const other = await inserted();
    await expectConflict(suite.storage.updateEndpoint(record.id, { name: other.name }));
    expect(await suite.storage.getEndpoint(record.id)).toMatchObject({ version: 9, notes: 'n', status: 'online' });
    expect((await suite.storage.getEndpoint(other.id))?.version).toBe(1);
  });

  it('round-trips admin_state and patches it independently of status', async () => {
    const pending = await inserted({ admin_state: 'pending_approval' });
    const other = await inserted({ registered_at: T1 });
    expect(await suite.storage.getEndpoint(pending.id)).toStrictEqual(pending);
    const enabled = await suite.storage.updateEndpoint(pending.id, { admin_state: 'enabled' });
    expect(enabled).toStrictEqual({ ...pending, admin_state: 'enabled', version: 2 });
    await suite.storage.updateEndpoint(pending.id, { admin_state: 'disabled', status: 'online' });
    await suite.storage.updateEndpoint(pending.id, { status: 'offline' });
    const expected = { ...pending, admin_state: 'disabled', status: 'offline', version: 4 };
    expect(await suite.storage.listEndpoints()).toStrictEqual([expected, other]);
  });

  it('round-trips the routing settings: a cap (or none), a priority and a fractional weight', async () => {
    const capped = await inserted({ max_concurrency: 3, priority: 2, weight: 0.25 });
    expect(await suite.storage.getEndpoint(capped.id)).toStrictEqual(capped);
    const uncapped = await suite.storage.updateEndpoint(capped.id, { max_concurrency: null, priority: 0, weight: 4.5 });
    expect(uncapped).toStrictEqual({ ...capped, max_concurrency: null, priority: 0, weight: 4.5, version: 2 });
    expect(await suite.storage.getEndpoint(capped.id)).toStrictEqual(uncapped);
  });

  it('round-trips the endpoint type and who set it', async () => {
    const pinned = await inserted({ type: 'llama.cpp', type_source: 'admin' });
    expect(await suite.storage.getEndpoint(pinned.id)).toStrictEqual(pinned);
    const detected = await suite.storage.updateEndpoint(pinned.id, { type: 'ollama', type_source: 'detected' });
    expect(detected).toStrictEqual({ ...pinned, type: 'ollama', type_source: 'detected', version: 2 });
    expect(await suite.storage.listEndpoints()).toStrictEqual([detected]);
  });
}

/** Unique name, base_url and id on insert, also under concurrency. */
export function insertClashCases(suite: Suite): void {
  const inserted = suite.inserted;

  // name and base_url are each unique on their own: a clash on one is a conflict that
  // changes nothing, does not leak either record's key, and reserves nothing.
  for (const [field, other] of [
    ['name', 'base_url'],
    ['base_url', 'name'],
  ] as const) {
    it(`rejects a duplicate ${field} on insert and changes nothing`, async () => {
      const first = await inserted({ api_key_encrypted: 'v1:do-not-leak' });
      const dup = makeEndpointRecord({ [field]: first[field], api_key_encrypted: 'v1:also-secret' });
      const error = await expectConflict(suite.storage.insertEndpoint(dup), { field, value: first[field] });
      expect(error.message).not.toContain('secret');
      expect(error.message).not.toContain('do-not-leak');
      expect(await suite.storage.getEndpoint(dup.id)).toBeUndefined();
      expect(await suite.storage.listEndpoints()).toStrictEqual([first]);
      // The failed insert must not have reserved its other unique field either.
      await inserted({ [other]: dup[other] });
      expect(await suite.storage.listEndpoints()).toHaveLength(2);
    });
  }

  it('rejects a duplicate id on insert', async () => {
    const first = await inserted();
    await expectConflict(suite.storage.insertEndpoint(makeEndpointRecord({ id: first.id })), { field: 'id', value: first.id });
    expect(await suite.storage.listEndpoints()).toStrictEqual([first]);
  });

  for (const [field, value] of [
    ['name', 'racer'],
    ['base_url', 'http://shared.test:8000'],
  ] as const) {
    it(`keeps ${field}s unique under concurrent inserts`, async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => suite.storage.insertEndpoint(makeEndpointRecord({ [field]: value }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(19);
      for (const r of rejected) {
        expect(r.reason).toBeInstanceOf(LlmlbError);
        expect((r.reason as LlmlbError).code).toBe('conflict');
        expect((r.reason as LlmlbError).details).toStrictEqual([{ path: field, message: 'already taken' }]);
      }
      const listed = await suite.storage.listEndpoints();
      expect(listed).toHaveLength(1);
      expect(listed[0]?.[field]).toBe(value);
    });
  }
}

/** Unique names on rename and in a check patch, also under concurrency. */
export function renameClashCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('rejects renaming to a taken name and changes nothing', async () => {
    const a = await inserted();
    const b = await inserted({ registered_at: T1 });
    await expectConflict(suite.storage.updateEndpoint(b.id, { name: a.name, notes: 'changed', status: 'online' }), {
      field: 'name',
      value: a.name,
    });
    expect(await suite.storage.getEndpoint(a.id)).toStrictEqual(a);
    expect(await suite.storage.getEndpoint(b.id)).toStrictEqual(b);
  });

  it('rejects a health-check patch that would take a taken name, writing nothing', async () => {
    const a = await inserted();
    const b = await inserted({ registered_at: T1 });
    const check = makeHealthCheck(b.id);
    await expectConflict(suite.storage.recordHealthCheck(b.id, { name: a.name, status: 'online' }, check), {
      field: 'name',
      value: a.name,
    });
    expect(await suite.storage.getEndpoint(b.id)).toStrictEqual(b);
    expect(await suite.storage.listHealthChecks(b.id)).toEqual([]);
  });

  it('keeps names unique under concurrent renames', async () => {
    const records = Array.from({ length: 10 }, () => makeEndpointRecord());
    for (const r of records) await suite.storage.insertEndpoint(r);
    const results = await Promise.allSettled(records.map((r) => suite.storage.updateEndpoint(r.id, { name: 'taken' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'conflict' });
    }
    const names = (await suite.storage.listEndpoints()).map((e) => e.name);
    expect(names.filter((n) => n === 'taken')).toHaveLength(1);
  });
}
