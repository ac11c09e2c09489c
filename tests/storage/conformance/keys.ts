/** Conformance cases: runtime API keys (rows, versions, the change feed, consumption) and their usage. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { KeyRecord, KeyUsageRow } from '../../../src/storage/key-types.js';
import { T0, T1, T2 } from '../../helpers/records.js';
import type { Suite } from './suite.js';

const H0 = '2026-01-01T00:00:00.000Z';
const H1 = '2026-01-01T01:00:00.000Z';
const H2 = '2026-01-01T02:00:00.000Z';
const ALL_HOURS = { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' };

/** A valid key record; `overrides` win. */
export function makeKeyRecord(overrides: Partial<KeyRecord> = {}): KeyRecord {
  const id = randomUUID();
  return {
    id,
    name: 'team-a',
    role: 'client',
    prefix: 'llmlb_ab12CD34',
    digest: id.replaceAll('-', '').padEnd(64, '0'),
    enabled: true,
    one_use: false,
    expires_at: null,
    rpm: null,
    max_concurrency: null,
    models: null,
    created_at: T0,
    updated_at: T0,
    consumed_at: null,
    revoked_at: null,
    version: 1,
    ...overrides,
  };
}

function usage(overrides: Partial<KeyUsageRow> = {}): KeyUsageRow {
  return { key_id: 'k1', model: 'm', hour: H0, requests: 1, errors: 0, prompt_tokens: 2, completion_tokens: 3, ...overrides };
}

/** Key rows: insert, read, update, consume, prune; each write in the feed. */
export function keyRowCases(suite: Suite): void {
  it('stores every field of a key and lists keys oldest first', async () => {
    const full = makeKeyRecord({ role: 'node', one_use: true, expires_at: T2, rpm: 60, max_concurrency: 4, models: ['b', 'a/b:c'], created_at: T1 });
    const older = makeKeyRecord({ name: 'older', enabled: false });
    await suite.storage.insertKey(full);
    await suite.storage.insertKey(older);
    expect(await suite.storage.getKey(full.id)).toStrictEqual(full);
    expect(await suite.storage.listKeys()).toStrictEqual([older, full]);
    expect(await suite.storage.getKey(randomUUID())).toBeUndefined();
    await expect(suite.storage.insertKey({ ...older, name: 'again' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('updates raise the version, apply only given fields, and null clears', async () => {
    const key = makeKeyRecord({ rpm: 10, models: ['m'] });
    await suite.storage.insertKey(key);
    const updated = await suite.storage.updateKey(key.id, { name: 'renamed', rpm: null, models: null, enabled: false, updated_at: T1 });
    expect(updated).toStrictEqual({ ...key, name: 'renamed', rpm: null, models: null, enabled: false, updated_at: T1, version: 2 });
    expect(await suite.storage.updateKey(key.id, { revoked_at: T2, max_concurrency: 3, models: ['x'] })).toMatchObject({ revoked_at: T2, max_concurrency: 3, models: ['x'], rpm: null, version: 3 });
    expect(await suite.storage.updateKey(randomUUID(), { name: 'x' })).toBeUndefined();
  });

  it('records every key write in the change feed as a `key` change', async () => {
    const before = await suite.storage.latestChange();
    const key = makeKeyRecord({ role: 'node', one_use: true });
    await suite.storage.insertKey(key);
    await suite.storage.updateKey(key.id, { name: 'n' });
    await suite.storage.consumeKey(key.id, T1);
    await suite.storage.updateKey(key.id, { revoked_at: T1 });
    await suite.storage.deleteKeysRevokedBefore(T2);
    await suite.storage.addKeyUsage([usage({ key_id: key.id })]);
    const { changes } = await suite.storage.changesSince(before);
    expect(changes.map((c) => [c.subject_id, c.kind])).toEqual(Array.from({ length: 5 }, () => [key.id, 'key']));
  });

  it('consumes a one-use key exactly once, also under racing calls', async () => {
    const token = makeKeyRecord({ role: 'node', one_use: true });
    const reusable = makeKeyRecord({ role: 'node' });
    await suite.storage.insertKey(token);
    await suite.storage.insertKey(reusable);
    const results = await Promise.all([suite.storage.consumeKey(token.id, T1), suite.storage.consumeKey(token.id, T2)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await suite.storage.getKey(token.id)).toMatchObject({ consumed_at: results[0] ? T1 : T2, version: 2 });
    expect(await suite.storage.consumeKey(token.id, T2)).toBe(false);
    expect(await suite.storage.consumeKey(reusable.id, T1)).toBe(false);
    expect(await suite.storage.consumeKey(randomUUID(), T1)).toBe(false);
    expect(await suite.storage.getKey(reusable.id)).toStrictEqual(reusable);
  });

  it('deletes only keys revoked before the cutoff', async () => {
    const old = makeKeyRecord({ revoked_at: T0 });
    const recent = makeKeyRecord({ revoked_at: T2 });
    const live = makeKeyRecord();
    for (const key of [old, recent, live]) await suite.storage.insertKey(key);
    expect(await suite.storage.deleteKeysRevokedBefore(T1)).toBe(1);
    expect((await suite.storage.listKeys()).map((k) => k.id).sort()).toEqual([recent.id, live.id].sort());
  });

  it('copies key records in and out', async () => {
    const key = makeKeyRecord({ models: ['a'] });
    const snapshot = { ...key, models: ['a'] };
    await suite.storage.insertKey(key);
    key.models!.push('mutated-input');
    key.name = 'mutated-input';
    const got = await suite.storage.getKey(snapshot.id);
    got!.models!.push('mutated-get');
    const [listed] = await suite.storage.listKeys();
    listed!.name = 'mutated-list';
    expect(await suite.storage.getKey(snapshot.id)).toStrictEqual(snapshot);
  });
}

/** Usage rows: added up per key, model and hour; read by range; pruned by hour. */
export function keyUsageCases(suite: Suite): void {
  it('adds batches to the row of the same key, model and hour', async () => {
    await suite.storage.addKeyUsage([usage(), usage({ model: 'n' }), usage({ hour: H1 })]);
    await suite.storage.addKeyUsage([usage({ requests: 2, errors: 1, prompt_tokens: 10, completion_tokens: 20 }), usage({ key_id: 'k2' })]);
    expect(await suite.storage.listKeyUsage('k1', ALL_HOURS)).toStrictEqual([
      usage({ requests: 3, errors: 1, prompt_tokens: 12, completion_tokens: 23 }),
      usage({ model: 'n' }),
      usage({ hour: H1 }),
    ]);
    expect(await suite.storage.listKeyUsage('k2', ALL_HOURS)).toStrictEqual([usage({ key_id: 'k2' })]);
    expect(await suite.storage.listKeyUsage('k3', ALL_HOURS)).toStrictEqual([]);
  });

  it('keeps large counts exact', async () => {
    const big = 2 ** 40;
    await suite.storage.addKeyUsage([usage({ prompt_tokens: big })]);
    await suite.storage.addKeyUsage([usage({ prompt_tokens: big })]);
    expect((await suite.storage.listKeyUsage('k1', ALL_HOURS))[0]!.prompt_tokens).toBe(2 * big + 0);
  });

  it('reads a range: from inclusive, to exclusive, by hour then model', async () => {
    await suite.storage.addKeyUsage([usage({ hour: H2 }), usage({ hour: H1, model: 'z' }), usage({ hour: H1, model: 'a' }), usage({ hour: H0 })]);
    const rows = await suite.storage.listKeyUsage('k1', { from: H1, to: H2 });
    expect(rows.map((r) => [r.hour, r.model])).toEqual([
      [H1, 'a'],
      [H1, 'z'],
    ]);
  });

  it('deletes rows of hours before the cutoff', async () => {
    await suite.storage.addKeyUsage([usage({ hour: H0 }), usage({ hour: H1 }), usage({ hour: H2, key_id: 'k2' })]);
    expect(await suite.storage.deleteKeyUsageBefore(H1)).toBe(1);
    expect((await suite.storage.listKeyUsage('k1', ALL_HOURS)).map((r) => r.hour)).toEqual([H1]);
    expect(await suite.storage.deleteKeyUsageBefore(H0)).toBe(0);
  });

  it('keeps keys and usage across a reopen when the adapter persists', async () => {
    const key = makeKeyRecord({ models: ['m'], rpm: 5 });
    await suite.storage.insertKey(key);
    await suite.storage.addKeyUsage([usage({ key_id: key.id })]);
    await suite.storage.close();
    if (suite.reopen === undefined) return;
    const reopened = suite.track(await suite.reopen());
    await reopened.init();
    expect(await reopened.listKeys()).toStrictEqual([key]);
    expect(await reopened.listKeyUsage(key.id, ALL_HOURS)).toStrictEqual([usage({ key_id: key.id })]);
  });

  it('adds nothing for an empty batch', async () => {
    await suite.storage.addKeyUsage([]);
    expect(await suite.storage.listKeyUsage('k1', ALL_HOURS)).toStrictEqual([]);
  });
}
